// GET /health/live and /health/ready of the lag monitor. Live while the process serves; ready
// once the monitor has read the group's offsets once (the dashboard and /lag then have figures).
import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import type { Response } from 'express';
import { LagService } from '../http/lag.service';

@Controller('health')
export class HealthController {
  constructor(private readonly lag: LagService) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(@Res({ passthrough: true }) res: Response) {
    const latest = this.lag.monitor.latest();
    const ready = latest !== undefined;
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not-ready', lastReadAt: latest?.at ?? null, errors: latest?.errors ?? [] };
  }
}
