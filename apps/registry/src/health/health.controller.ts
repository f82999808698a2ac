import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Readiness } from './readiness';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  @Get('live')
  @ApiOperation({ summary: '200 while the process can work; 503 when a component failed for good (restart it)' })
  live(@Res({ passthrough: true }) res: Response) {
    const report = this.readiness.report();
    res.status(report.alive ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: report.alive ? 'ok' : 'failed', checks: report.checks };
  }

  @Get('ready')
  @ApiOperation({ summary: '200 once the mapping set (and audit) have been read to the end of their topics; 503 before' })
  ready(@Res({ passthrough: true }) res: Response) {
    const report = this.readiness.report();
    res.status(report.ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: report.ready ? 'ready' : 'not-ready', checks: report.checks };
  }
}
