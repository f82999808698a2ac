// GET /metrics: the shared registry (lag metrics, default process metrics, anything else
// the host process registered), in the Prometheus text format.
import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { LagService } from './lag.service';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly lag: LagService) {}

  @Get()
  async metrics(@Res({ passthrough: true }) response: Response): Promise<string> {
    response.setHeader('Content-Type', this.lag.registry.contentType);
    return this.lag.registry.metrics();
  }
}
