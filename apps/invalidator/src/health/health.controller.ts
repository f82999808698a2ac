// Liveness: the process answers. Readiness: joined the consumer group, Redis connected,
// mappings loaded; 503 with the failing checks otherwise (what a Kubernetes probe expects).
import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { InvalidatorRuntime } from '../runtime';

@Controller('health')
export class HealthController {
  constructor(@Inject(InvalidatorRuntime) private readonly runtime: InvalidatorRuntime) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(@Res() res: Response): void {
    const checks = this.runtime.readiness();
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({ status: ok ? 'ready' : 'not-ready', checks });
  }
}
