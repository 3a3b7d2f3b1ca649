import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

type RequestContext = { correlationId: string };

const storage = new AsyncLocalStorage<RequestContext>();
const CORRELATION_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The correlation id of the request being handled, if any. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/**
 * Takes the caller's `X-Correlation-Id`, else the trace id of a W3C `traceparent`, else a new
 * UUID; echoes it in the response and makes it available to everything the request runs.
 */
export function correlationFrom(headers: Request['headers']): string {
  const given = headers['x-correlation-id'];
  if (typeof given === 'string' && CORRELATION_ID.test(given)) return given;
  const trace = typeof headers.traceparent === 'string' ? TRACEPARENT.exec(headers.traceparent.trim()) : null;
  if (trace && !/^0+$/.test(trace[1])) return trace[1];
  return randomUUID();
}

export function correlationMiddleware(request: Request, response: Response, next: NextFunction): void {
  const correlationId = correlationFrom(request.headers);
  response.setHeader('X-Correlation-Id', correlationId);
  storage.run({ correlationId }, next);
}
