import {
  type CanActivate,
  type CustomDecorator,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { ApiScope } from './api-keys.config.js';
import { type ApiKeyPrincipal, ApiKeyVerifier } from './api-key.verifier.js';

const REQUIRED_SCOPES = 'cx:required-scopes';

/**
 * Requires a valid API key holding every listed scope. On a controller it applies to each route;
 * on a controller and a route both, the route needs the scopes of both (a route can add
 * requirements, never waive them). Routes without it are public.
 */
export function RequireScopes(scope: ApiScope, ...more: ApiScope[]): CustomDecorator<string> {
  return SetMetadata(REQUIRED_SCOPES, [scope, ...more]);
}

/** A request that passed the guard carries who sent it, for logging; never the key. */
export type AuthenticatedRequest = Request & { principal?: ApiKeyPrincipal };

export function principalOf(request: Request): ApiKeyPrincipal | undefined {
  return (request as AuthenticatedRequest).principal;
}

type Presented = { kind: 'key'; key: string } | { kind: 'none' } | { kind: 'bad'; message: string };

/** The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(headers: Request['headers']): Presented {
  const authorization = headers.authorization?.trim();
  const headerKey = headers['x-api-key'];
  const apiKey = (Array.isArray(headerKey) ? headerKey.join(',') : headerKey)?.trim();
  let bearer: string | undefined;
  if (authorization) {
    const match = /^Bearer[ \t]+(\S+)$/i.exec(authorization);
    // Another scheme (Basic from a gateway, say) is left alone when X-API-Key carries the key.
    if (match) bearer = match[1];
    else if (!apiKey) return { kind: 'bad', message: 'the Authorization header must be "Bearer <key>"; or send the key as X-API-Key' };
  }
  if (bearer !== undefined && apiKey && apiKey !== bearer) {
    return { kind: 'bad', message: 'Authorization and X-API-Key carry different keys; send one' };
  }
  const key = bearer ?? apiKey;
  return key ? { kind: 'key', key } : { kind: 'none' };
}

function rejected(message: string) {
  return { status: 'rejected', errors: [{ field: 'authorization', message }] };
}

/**
 * 401 without a valid key, 403 with a key that lacks a required scope, through for routes without
 * {@link RequireScopes}. Registered app-wide by AuthModule (APP_GUARD); `@UseGuards(ApiKeyGuard)`
 * works too when the module is imported with `globalGuard: false`.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: ApiKeyVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const declared = this.reflector.getAll<(ApiScope[] | undefined)[]>(REQUIRED_SCOPES, [context.getClass(), context.getHandler()]);
    if (declared.every((scopes) => scopes === undefined)) return true;
    // Keys are an HTTP concern; a protected handler reached any other way is refused, not waved through.
    if (context.getType() !== 'http') return false;
    const required = [...new Set(declared.flatMap((scopes) => scopes ?? []))];

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    const presented = presentedKey(request.headers);
    if (presented.kind === 'none') {
      response.setHeader('WWW-Authenticate', 'Bearer realm="cx"');
      throw new UnauthorizedException(rejected('an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>'));
    }
    const principal = presented.kind === 'key' ? await this.verifier.verify(presented.key) : undefined;
    if (!principal) {
      response.setHeader('WWW-Authenticate', 'Bearer realm="cx", error="invalid_token"');
      throw new UnauthorizedException(rejected(presented.kind === 'bad' ? presented.message : 'the API key is not valid'));
    }
    request.principal = principal;
    const missing = required.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      response.setHeader('WWW-Authenticate', `Bearer realm="cx", error="insufficient_scope", scope="${required.join(' ')}"`);
      throw new ForbiddenException(
        rejected(`this API key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')} needed here`),
      );
    }
    return true;
  }
}
