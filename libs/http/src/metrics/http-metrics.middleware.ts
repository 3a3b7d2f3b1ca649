import type { NextFunction, Request, Response } from 'express';
import { type Metrics, UNMATCHED_ROUTE } from './metrics.service.js';

/** Status label of a request whose client went away before the response was complete (nginx's convention). */
export const CLIENT_CLOSED = '499';

/**
 * Times every request into `cx_http_request_duration_seconds`. The route label is the pattern
 * Express matched (`/v1/customers/:id/journey`), read when the response ends; a request no route
 * matched is `unmatched`, so no URL with ids ever becomes a label value.
 */
export function httpMetricsMiddleware(metrics: Pick<Metrics, 'observeHttp'>) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    // Mounted as a catch-all route itself (Nest's MiddlewareConsumer does that), this middleware
    // is request.route now; if it still is at the end, no handler's route matched.
    const own: unknown = request.route;
    let recorded = false;
    const record = (status: number | string) => {
      if (recorded) return;
      recorded = true;
      const matched = request.route as { path?: unknown } | undefined;
      const route = matched && matched !== own && typeof matched.path === 'string' ? matched.path : UNMATCHED_ROUTE;
      metrics.observeHttp(request.method, route, status, Number(process.hrtime.bigint() - started) / 1e9);
    };
    response.once('finish', () => record(response.statusCode));
    response.once('close', () => record(response.writableFinished ? response.statusCode : CLIENT_CLOSED));
    next();
  };
}
