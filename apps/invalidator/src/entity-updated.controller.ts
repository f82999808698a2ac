import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { InvalidationPipeline } from './pipeline/invalidation.pipeline';
import { BatchPayload, ENTITY_UPDATED_PATTERN } from './transport/kafka-batch.transport';

@Controller()
export class EntityUpdatedController {
  constructor(@Inject(InvalidationPipeline) private readonly pipeline: InvalidationPipeline) {}

  @EventPattern(ENTITY_UPDATED_PATTERN)
  handleBatch(@Payload() { batch, control }: BatchPayload): Promise<void> {
    return this.pipeline.process(batch, control);
  }
}
