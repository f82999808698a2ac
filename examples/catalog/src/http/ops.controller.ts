import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { metricsRegistry } from '@app/telemetry';
import { CatalogStore } from '../store/catalog-store';

@ApiExcludeController()
@Controller()
export class OpsController {
  constructor(@Inject(CatalogStore) private readonly store: CatalogStore) {}

  /** outboxPending growing means events are waiting for Kafka; outboxFailed > 0 needs a human. */
  @Get('health')
  health(): { status: 'ok'; products: number; outboxPending: number; outboxFailed: number } {
    return {
      status: 'ok',
      products: this.store.productCount,
      outboxPending: this.store.outbox.pendingCount,
      outboxFailed: this.store.outbox.failed.length,
    };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return metricsRegistry().metrics();
  }
}
