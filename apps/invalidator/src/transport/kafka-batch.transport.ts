// A NestJS custom transport around a batch consumer (BatchConsumer: kafkajs or
// @platformatic/kafka, KAFKA_CLIENT; the stock Kafka transport is one message at a time). Lifecycle only: listen() starts consuming and hands each batch to the
// @EventPattern handler; close() stops fetching, lets the in-flight batch finish or abandon
// (it checks isActive), commits what was applied and disconnects.
import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom, Observable, throwError } from 'rxjs';
import type { BatchConsumer, BatchControl, InboundBatch } from '@app/kafka';

export const ENTITY_UPDATED_PATTERN = 'entity.updated';

/** What an @EventPattern(ENTITY_UPDATED_PATTERN) handler receives. */
export interface BatchPayload {
  batch: InboundBatch;
  control: BatchControl;
}

/**
 * Hands a batch handler's error to the consumer as it was thrown. Nest's default RPC filter
 * replaces any error that is not an RpcException with "Internal server error" (and prints the
 * real one in its own unstructured format), so the consumer's logs and crash reasons lost the
 * cause (a Kafka request timeout, a Redis outage). The consumer decides what an error means.
 */
@Catch()
export class RethrowBatchErrors implements RpcExceptionFilter<unknown> {
  catch(error: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => error);
  }
}

export class KafkaBatchTransport extends Server implements CustomTransportStrategy {
  constructor(private readonly consumer: BatchConsumer) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.consumer
      .start(async (batch, control) => {
        const handler = this.getHandlerByPattern(ENTITY_UPDATED_PATTERN);
        if (!handler) throw new Error(`no @EventPattern('${ENTITY_UPDATED_PATTERN}') handler is registered`);
        const payload: BatchPayload = { batch, control };
        const result: unknown = await handler(payload);
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      })
      .then(
        () => callback(),
        (error: unknown) => callback(error),
      );
  }

  async close(): Promise<void> {
    await this.consumer.stop();
  }

  on(): void {
    // The consumer's lifecycle events are exposed through BatchConsumer.on instead.
  }

  unwrap<T>(): T {
    return this.consumer as unknown as T;
  }
}
