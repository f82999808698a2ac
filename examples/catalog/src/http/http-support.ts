// Small HTTP edges: id parameters, request validation errors and store errors all answer with a
// stable `code` and the field that is wrong; a trace id follows the request into the event headers.
import { randomUUID } from 'node:crypto';
import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  createParamDecorator,
  ExceptionFilter,
  ExecutionContext,
  HttpStatus,
  ValidationPipe,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { fieldViolations } from '@app/contracts';
import { CatalogStoreError, CatalogStoreErrorCode } from '../store/catalog-store.errors';

export { SafeIdPipe } from '../../../support/safe-id.pipe';

export function requestValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true, // one reason per field: "price must be a number", not also its range
    exceptionFactory: (errors) => {
      const fields = fieldViolations(errors);
      return new BadRequestException({
        statusCode: 400,
        code: 'INVALID_REQUEST',
        message: fields.map((f) => f.message).join('; '),
        fields,
      });
    },
  });
}

const STATUS: Record<CatalogStoreErrorCode, number> = {
  PRODUCT_NOT_FOUND: HttpStatus.NOT_FOUND,
  PRODUCT_EXISTS: HttpStatus.CONFLICT,
  VERSION_CONFLICT: HttpStatus.CONFLICT,
  EVENT_INVALID: HttpStatus.BAD_REQUEST,
  DATABASE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  STORE_CLOSED: HttpStatus.SERVICE_UNAVAILABLE,
};

@Catch(CatalogStoreError)
export class CatalogErrorFilter implements ExceptionFilter {
  catch(error: CatalogStoreError, host: ArgumentsHost): void {
    const status = STATUS[error.code] ?? 500;
    host.switchToHttp().getResponse<Response>().status(status).json({ statusCode: status, code: error.code, message: error.message });
  }
}

export const TRACE_HEADER = 'x-trace-id';

/** Takes the caller's x-trace-id (or W3C traceparent), else makes one; echoes it on the response. */
export function traceIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.header(TRACE_HEADER) ?? req.header('traceparent');
  const traceId = given && given.length <= 128 ? given : randomUUID();
  (req as Request & { traceId?: string }).traceId = traceId;
  res.setHeader(TRACE_HEADER, traceId);
  next();
}

export const TraceId = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined => {
  return context.switchToHttp().getRequest<Request & { traceId?: string }>().traceId;
});
