import { Controller, Inject, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InvalidationPipeline } from './pipeline/invalidation.pipeline';
import { InvalidatorRuntime } from './runtime';
import { BatchPayload, ENTITY_UPDATED_PATTERN, RethrowBatchErrors } from './transport/kafka-batch.transport';

@Controller()
export class EntityUpdatedController {
  constructor(
    @Inject(InvalidationPipeline) private readonly pipeline: InvalidationPipeline,
    @Inject(InvalidatorRuntime) private readonly runtime: InvalidatorRuntime,
  ) {}

  @EventPattern(ENTITY_UPDATED_PATTERN)
  @UseFilters(RethrowBatchErrors)
  async handleBatch(@Payload() { batch, control }: BatchPayload): Promise<void> {
    // A dead mapping follower means a frozen mapping set: hold the batch (nothing committed) until it reads again.
    if (!(await this.runtime.mappingsWatch.hold(control))) return;
    return this.pipeline.process(batch, control);
  }
}
