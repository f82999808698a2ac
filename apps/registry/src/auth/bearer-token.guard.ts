// Every mapping/audit route needs a valid bearer token (401 otherwise); the principal it maps
// to is attached to the request for the team checks done where mappings change.
import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RegistryError } from '@app/registry-core';
import { Principal, TeamTokens } from './team-tokens';

type AuthenticatedRequest = Request & { principal?: Principal };

@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(private readonly tokens: TeamTokens) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="mapping-registry"');
      throw new RegistryError('NOT_AUTHENTICATED', 'missing bearer token: send "Authorization: Bearer <token>"');
    }
    const principal = this.tokens.principalOf(match[1]);
    if (!principal) {
      http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="mapping-registry", error="invalid_token"');
      throw new RegistryError('NOT_AUTHENTICATED', 'unknown bearer token');
    }
    request.principal = principal;
    return true;
  }
}

/** The authenticated caller (only on routes behind BearerTokenGuard). */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new RegistryError('NOT_AUTHENTICATED', 'route is not behind BearerTokenGuard');
  return principal;
});
