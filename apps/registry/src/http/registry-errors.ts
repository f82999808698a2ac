// One error shape for every 4xx/5xx of the API: { statusCode, code, message, field?, violations? }.
// RegistryError codes map to HTTP statuses here and only here.
import {
  ArgumentMetadata,
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  HttpException,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from '@app/telemetry';
import { objectInternalKeys, RegistryError, RegistryErrorCode, Violation, violationsOf } from '@app/registry-core';

const STATUS: Record<RegistryErrorCode, number> = {
  MAPPING_INVALID: 400,
  TEMPLATE_SYNTAX: 400,
  TEMPLATE_UNSAFE_URL: 400,
  TEMPLATE_UNKNOWN_FIELD: 400,
  TEMPLATE_WIDENS_KEY: 400,
  TEMPLATE_VALUE_NOT_SCALAR: 400,
  FANOUT_LIMIT: 400,
  DUPLICATE_MAPPING_ID: 400,
  YAML_INVALID: 400,
  REQUEST_INVALID: 400,
  EVENT_INVALID: 400,
  NOT_AUTHENTICATED: 401,
  WRONG_TEAM: 403,
  MAPPING_NOT_FOUND: 404,
  FOREIGN_KEYSPACE: 403,
  KEYSPACE_INVALID: 400,
  KEYSPACE_CONFLICT: 409,
  KEYSPACE_NOT_FOUND: 404,
  SOURCE_INVALID: 400,
  SOURCE_NOT_FOUND: 404,
  SOURCE_CONFLICT: 409,
  ADMIN_ONLY: 403,
  KEYSPACES_REQUIRED: 409,
  PAYLOAD_TOO_LARGE: 413,
  VERSION_CONFLICT: 409,
  STORE_NOT_READY: 503,
  STORE_TIMEOUT: 503,
  STORE_STOPPED: 503,
};

function refusal(violations: Violation[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    code: 'REQUEST_INVALID',
    message: violations.map((v) => `${v.field}: ${v.message}`).join('; '),
    field: violations[0]?.field,
    violations,
  });
}

/**
 * The DTO check, after refusing object internals as keys (objectInternalKeys): class-transformer
 * would drop a "__proto__" key without a word and answer 500 for a "constructor" key.
 */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      const internal = objectInternalKeys(value);
      if (internal.length > 0)
        throw refusal(
          internal.map((field) => ({
            field,
            code: 'REQUEST_INVALID',
            message: 'names __proto__ or constructor (object internals): not allowed',
          })),
        );
    }
    return super.transform(value, metadata);
  }
}

/** class-validator failures -> 400 REQUEST_INVALID naming each wrong field ("keys[0].action"). */
export function requestValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    exceptionFactory: (errors: ValidationError[]) => refusal(violationsOf(errors).map((v) => ({ ...v, code: 'REQUEST_INVALID' }))),
  });
}

/** What the JSON/urlencoded body parser (body-parser, http-errors) throws for a body it refuses. */
interface BodyParserError {
  type: string;
  status: number;
  expose: boolean;
  message: string;
  limit?: number;
  length?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  const e = error as Partial<BodyParserError> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.type === 'string' &&
    typeof e.status === 'number' &&
    e.status >= 400 &&
    e.status < 500 &&
    e.expose === true
  );
}

@Catch()
export class RegistryErrorFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly options: { maxBodyBytes?: number } = {},
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (isBodyParserError(error)) {
      // The caller's mistake (or a probe), never a server error: answered in the usual shape,
      // without a stack trace in the log.
      const body = bodyRefusal(error, this.options.maxBodyBytes);
      if (body.statusCode === 413) {
        const req = host.switchToHttp().getRequest<Request>();
        this.logger.warn(
          { method: req.method, path: req.path, limit: error.limit, length: error.length },
          'request body too large: refused with 413 PAYLOAD_TOO_LARGE',
        );
      }
      res.status(body.statusCode).json(body);
      return;
    }
    if (error instanceof RegistryError) {
      const status = STATUS[error.code] ?? 500;
      res.status(status).json({
        statusCode: status,
        code: error.code,
        message: error.message,
        field: error.field,
        violations: error.violations.length > 0 ? error.violations : undefined,
      });
      return;
    }
    if (error instanceof HttpException) {
      const status = error.getResponse();
      const body = typeof status === 'string' ? { statusCode: error.getStatus(), message: status } : (status as Record<string, unknown>);
      // Nest turns a body that is not JSON (SyntaxError) into a plain BadRequestException: give it the usual code.
      if (error.getStatus() === 400 && body.code === undefined) {
        res.status(400).json({ statusCode: 400, code: 'REQUEST_INVALID', message: `request refused: ${String(body.message)}` });
        return;
      }
      res.status(error.getStatus()).json(body);
      return;
    }
    this.logger.error({ err: error }, 'request failed with an unexpected error');
    res.status(500).json({ statusCode: 500, code: 'INTERNAL', message: 'internal error (logged by the registry)' });
  }
}

/** The answer to a body the parser refused: 413 PAYLOAD_TOO_LARGE naming the limit, else 4xx REQUEST_INVALID. */
export function bodyRefusal(
  error: BodyParserError,
  maxBodyBytes?: number,
): { statusCode: number; code: RegistryErrorCode; message: string; field?: string } {
  if (error.type === 'entity.too.large') {
    const limit = error.limit ?? maxBodyBytes;
    const size = error.length !== undefined ? ` (${error.length} bytes)` : '';
    return {
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: `request body${size} is over the limit of ${limit} bytes (REGISTRY_MAX_BODY_BYTES)`,
    };
  }
  if (error.type === 'entity.parse.failed')
    return { statusCode: 400, code: 'REQUEST_INVALID', message: `request body is not valid JSON: ${error.message}`, field: 'body' };
  return { statusCode: error.status, code: 'REQUEST_INVALID', message: `request body refused: ${error.message}`, field: 'body' };
}
