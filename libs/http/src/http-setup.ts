import type { INestApplication } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { correlationMiddleware } from './correlation.js';
import type { JsonLogger } from './json-logger.js';

export const MAX_BODY_BYTES = 1024 * 1024;
export const JSON_TYPES = ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'];

type BodyParserError = Error & { type?: string; status?: number };

/**
 * What every app does to its HTTP server before the routes: correlation ids, request logs,
 * JSON bodies up to 1 MiB in the CloudEvents media types, and clear answers when a body is
 * too large (413) or not JSON (400) instead of Express's HTML error pages.
 * Create the app with `bodyParser: false` so this parser is the only one.
 */
export function configureHttp(app: INestApplication, logger: JsonLogger): void {
  app.use(correlationMiddleware);
  app.use((request: Request, response: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const principal = (request as Request & { principal?: { keyId?: string } }).principal?.keyId;
      logger.entry('info', 'request', {
        method: request.method,
        path: request.path,
        status: response.statusCode,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        ...(principal ? { principal } : {}),
      });
    });
    next();
  });
  app.use(express.json({ limit: MAX_BODY_BYTES, type: JSON_TYPES, strict: false }));
  app.use((error: BodyParserError, _request: Request, response: Response, next: NextFunction) => {
    if (error.type === 'entity.too.large') {
      response.status(413).json({
        status: 'rejected',
        errors: [{ field: 'body', message: `the body is larger than ${MAX_BODY_BYTES} bytes (1 MiB); send smaller batches` }],
      });
    } else if (error.type === 'entity.parse.failed') {
      response.status(400).json({ status: 'rejected', errors: [{ field: 'body', message: `malformed JSON: ${error.message}` }] });
    } else if (error.status && error.status >= 400 && error.status < 500) {
      response.status(error.status).json({ status: 'rejected', errors: [{ field: 'body', message: error.message }] });
    } else {
      next(error);
    }
  });
}
