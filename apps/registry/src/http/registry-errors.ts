// One error shape for every 4xx/5xx of the API: { statusCode, code, message, field?, violations? }.
// RegistryError codes map to HTTP statuses here and only here.
import { ArgumentsHost, BadRequestException, Catch, ExceptionFilter, HttpException, ValidationError, ValidationPipe } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '@app/telemetry';
import { RegistryError, RegistryErrorCode, Violation, violationsOf } from '@app/registry-core';

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
  ADMIN_ONLY: 403,
  VERSION_CONFLICT: 409,
  STORE_NOT_READY: 503,
  STORE_TIMEOUT: 503,
  STORE_STOPPED: 503,
};

export function httpStatusOf(code: RegistryErrorCode): number {
  return STATUS[code];
}

/** class-validator failures -> 400 REQUEST_INVALID naming each wrong field ("keys[0].action"). */
export function requestValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    exceptionFactory: (errors: ValidationError[]) => {
      const violations: Violation[] = violationsOf(errors).map((v) => ({ ...v, code: 'REQUEST_INVALID' }));
      return new BadRequestException({
        statusCode: 400,
        code: 'REQUEST_INVALID',
        message: violations.map((v) => `${v.field}: ${v.message}`).join('; '),
        field: violations[0]?.field,
        violations,
      });
    },
  });
}

@Catch()
export class RegistryErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof RegistryError) {
      const status = STATUS[error.code] ?? 500;
      res.status(status).json({ statusCode: status, code: error.code, message: error.message, field: error.field, violations: error.violations.length > 0 ? error.violations : undefined });
      return;
    }
    if (error instanceof HttpException) {
      const body = error.getResponse();
      res.status(error.getStatus()).json(typeof body === 'string' ? { statusCode: error.getStatus(), message: body } : body);
      return;
    }
    this.logger.error({ err: error }, 'request failed with an unexpected error');
    res.status(500).json({ statusCode: 500, code: 'INTERNAL', message: 'internal error (logged by the registry)' });
  }
}
