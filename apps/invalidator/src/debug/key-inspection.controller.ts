// "Why is this key stale?": what Redis holds for one cache key, in the protocol's terms (value
// version and age, tombstone version, live lease), without touching it. Read-only.
import { BadRequestException, Controller, Get, Inject, Param } from '@nestjs/common';
import { InvalidatorRuntime } from '../runtime';

export interface KeyInspectionView {
  key: string;
  cached: boolean;
  version?: number;
  writtenAt?: string;
  valueTtlMs?: number;
  notAnEnvelope?: boolean;
  tombstoneVersion?: number;
  tombstoneTtlMs?: number;
  leaseHeld: boolean;
}

@Controller('debug')
export class KeyInspectionController {
  constructor(@Inject(InvalidatorRuntime) private readonly runtime: InvalidatorRuntime) {}

  @Get('keys/:key')
  async inspect(@Param('key') key: string): Promise<KeyInspectionView> {
    const problem = this.runtime.protocol.checkTag(key);
    if (problem) throw new BadRequestException({ statusCode: 400, code: problem.code, field: 'key', message: problem.message });
    const found = await this.runtime.protocol.inspect(key);
    return {
      key,
      cached: found.entry !== undefined,
      version: found.entry?.version,
      writtenAt: found.entry ? new Date(found.entry.writtenAt).toISOString() : undefined,
      valueTtlMs: found.valueTtlMs,
      notAnEnvelope: found.foreign,
      tombstoneVersion: found.tombstoneVersion,
      tombstoneTtlMs: found.tombstoneTtlMs,
      leaseHeld: found.leaseToken !== undefined,
    };
  }
}
