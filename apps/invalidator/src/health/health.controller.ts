// Liveness: the process answers, kafkajs has not given up on its consumer and the mapping
// follower reads. Readiness: joined the consumer group, Redis connected, mappings loaded and
// followed, consumer not crashed; 503 with the failing checks otherwise (what a Kubernetes probe expects).
import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { InvalidatorRuntime } from '../runtime';

@Controller('health')
export class HealthController {
  constructor(@Inject(InvalidatorRuntime) private readonly runtime: InvalidatorRuntime) {}

  /**
   * 503 once kafkajs gave up on the consumer (non-retriable crash, EXIT_ON_CONSUMER_CRASH=false), or
   * once the mapping follower has not read its topic for MAPPINGS_STALL_LIVE_MS (a frozen mapping set): restart me.
   */
  @Get('live')
  live(@Res() res: Response): void {
    const crash = this.runtime.crash;
    const stalled = this.runtime.mappingsWatch.liveness();
    if (crash)
      res.status(HttpStatus.SERVICE_UNAVAILABLE).json({
        status: 'consumer-crashed',
        reason: crash.cause,
        type: crash.type,
        topic: crash.topic,
        partition: crash.partition,
        since: crash.at,
      });
    else if (stalled) res.status(HttpStatus.SERVICE_UNAVAILABLE).json({ status: 'mappings-follower-stalled', reason: stalled });
    else res.status(HttpStatus.OK).json({ status: 'ok' });
  }

  @Get('ready')
  ready(@Res() res: Response): void {
    const checks = this.runtime.readiness();
    // A check is true, or false / the reason it fails.
    const ok = Object.values(checks).every((v) => v === true);
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({ status: ok ? 'ready' : 'not-ready', checks });
  }
}
