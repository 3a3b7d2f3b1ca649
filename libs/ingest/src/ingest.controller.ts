import { currentCorrelationId, principalOf, RequireScopes } from '@cx/http';
import { Controller, HttpCode, HttpException, HttpStatus, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { IngestService } from './ingest.service.js';

export const MAX_BATCH_EVENTS = 1000;

function reject(status: HttpStatus, field: string, message: string): never {
  throw new HttpException({ status: 'rejected', errors: [{ field, message }] }, status);
}

/**
 * `POST /v1/events`: CloudEvents 1.0 in JSON, one event (202) or a batch (200, one result per
 * event in input order). Media types: application/json, application/cloudevents+json (one),
 * application/cloudevents-batch+json (an array).
 */
@Controller('v1/events')
export class IngestController {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}

  @Post()
  @RequireScopes('ingest')
  @HttpCode(HttpStatus.ACCEPTED)
  async post(@Req() request: Request, @Res({ passthrough: true }) response: Response, @Query('atomic') atomic?: string) {
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (request.body === undefined || !request.is(['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'])) {
      reject(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'content-type', 'send application/json, application/cloudevents+json or application/cloudevents-batch+json');
    }
    if (atomic !== undefined && atomic !== 'true' && atomic !== 'false') reject(HttpStatus.BAD_REQUEST, 'atomic', 'must be true or false');
    const body: unknown = request.body;
    const context = {
      correlationId: currentCorrelationId() ?? 'none',
      atomic: atomic === 'true',
      principal: principalOf(request)?.keyId,
    };

    if (Array.isArray(body)) {
      if (mediaType === 'application/cloudevents+json') reject(HttpStatus.BAD_REQUEST, 'body', 'application/cloudevents+json carries one event; send a batch as application/cloudevents-batch+json');
      if (body.length === 0) reject(HttpStatus.BAD_REQUEST, 'body', 'the batch is empty');
      if (body.length > MAX_BATCH_EVENTS) reject(HttpStatus.PAYLOAD_TOO_LARGE, 'body', `a batch takes at most ${MAX_BATCH_EVENTS} events, got ${body.length}`);
      const outcome = await this.ingest.ingest(body, context);
      if (context.atomic && outcome.rejected > 0) {
        response.status(outcome.results.some((r) => r.status === 'rejected' && r.current) ? HttpStatus.CONFLICT : HttpStatus.BAD_REQUEST);
      } else {
        response.status(HttpStatus.OK);
      }
      return outcome;
    }

    if (typeof body !== 'object' || body === null) reject(HttpStatus.BAD_REQUEST, 'body', 'the body must be a CloudEvent (a JSON object) or a batch (a JSON array)');
    if (mediaType === 'application/cloudevents-batch+json') reject(HttpStatus.BAD_REQUEST, 'body', 'application/cloudevents-batch+json carries an array of events');
    const [result] = (await this.ingest.ingest([body], context)).results;
    if (result.status === 'rejected') {
      response.status(result.current ? HttpStatus.CONFLICT : HttpStatus.BAD_REQUEST);
      return { status: 'rejected', errors: result.errors, ...(result.current ? { current: result.current } : {}) };
    }
    return result;
  }
}
