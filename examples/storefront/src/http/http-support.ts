// HTTP edges: ids are checked before they become cache keys (a glob or colon would widen or
// alias a key); loader errors map to 404/503 with a stable code.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '@app/telemetry';
import { CatalogUnavailableError, ProductNotFoundError } from '../catalog-truth.client';

export { SafeIdPipe } from '../../../support/safe-id.pipe';

/** The loader's error may arrive as is or as the `cause` of a cache-client error. */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof ProductNotFoundError || current instanceof CatalogUnavailableError) return current;
    current = current.cause;
  }
  return error;
}

@Catch()
export class StorefrontErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    // Errors are never cached (by Varnish or a CDN in front): a 404 would outlive the product's creation.
    response.setHeader('cache-control', 'no-store');
    if (error instanceof HttpException) {
      response.status(error.getStatus()).json(error.getResponse());
      return;
    }
    const cause = rootCause(error);
    if (cause instanceof ProductNotFoundError) {
      response.status(404).json({ statusCode: 404, code: cause.code, message: cause.message });
      return;
    }
    const code = cause instanceof CatalogUnavailableError ? cause.code : ((error as { code?: string }).code ?? 'READ_FAILED');
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn({ code, reason: message }, 'read failed; answered 503');
    response.status(503).json({ statusCode: 503, code, message });
  }
}
