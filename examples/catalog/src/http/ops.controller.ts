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
  async health(): Promise<{ status: 'ok'; products: number; outboxPending: number; outboxFailed: number }> {
    // PostgreSQL unreachable: DATABASE_UNAVAILABLE, 503 (the error filter).
    return { status: 'ok', ...(await this.store.counts()) };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return metricsRegistry().metrics();
  }
}
