// GET /lag: the figures as JSON (per partition, the group, and the lag history).
import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { LagReport, LagService } from './lag.service';

/** `since` query parameter: epoch ms; only history after it is returned. */
export function parseSince(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const since = Number(raw);
  if (!Number.isFinite(since))
    throw new BadRequestException({ code: 'LAG_BAD_SINCE', message: `since must be epoch milliseconds (got "${raw}")` });
  return since;
}

@Controller('lag')
export class LagController {
  constructor(private readonly lag: LagService) {}

  @Get()
  report(@Query('since') since?: string): Promise<LagReport> {
    return this.lag.report(parseSince(since));
  }
}
