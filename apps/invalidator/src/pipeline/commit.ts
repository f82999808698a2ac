// Step 7 of the pipeline (invalidation.pipeline.ts), commit: runs only once the chunk's dead
// letters are in the DLQ topic (5) and its effects are in Redis (6). Remembers the events whose
// effects all reached Redis and the HTTP caches (dedupe's memory: a dead-lettered or unmapped
// event must not be skipped when it comes back, e.g. a DLQ replay; nor one with only one
// mapping's part dead-lettered, nor one whose purge failed), then resolves and commits the
// chunk's last offset, so the commit covers exactly that chunk.
import type { BatchControl, InboundMessage } from '@app/kafka';
import type { MappingResolver } from '@app/registry-core/types';
import type { DecodedEvent } from './decode';
import { RecentEvents, rememberApplied } from './dedupe';
import type { EffectPlan } from './resolve';

/** Returns the chunk's last message (its offset's commit is done, or under way with the platformatic client). */
export async function commitChunk(
  chunk: InboundMessage[],
  unique: DecodedEvent[],
  plan: EffectPlan,
  resolver: MappingResolver,
  recent: RecentEvents,
  control: BatchControl,
  /** Events with a part dead-lettered after the resolve step (PURGE_FAILED). */
  alsoNotApplied: ReadonlySet<DecodedEvent> = new Set(),
): Promise<InboundMessage> {
  const notApplied = new Set([...plan.unresolvable.map((u) => u.decoded), ...alsoNotApplied]);
  rememberApplied(
    unique.filter((d) => !notApplied.has(d) && resolver.hasEntityType(d.event.entityType)),
    recent,
  );
  const last = chunk[chunk.length - 1];
  await control.resolveAndCommit(last.offset);
  return last;
}
