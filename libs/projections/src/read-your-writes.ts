import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type NestInterceptor,
  Optional,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { FoldDeferral } from './fold-deferral.js';
import { ProjectionRunner } from './projection-runner.js';

const READS = 'cx:reads-projections';
export const MIN_POSITION_WAIT_MS = 5_000;
const POLL_MS = 25;

/** The read models a query endpoint reads: `minPosition` waits for these. */
export const ReadsProjections = (...names: string[]) => SetMetadata(READS, names);

/** `minPosition` from the query string or the `X-Cx-Min-Position` header: a log position (digits). */
export function minPositionOf(request: Request): bigint | undefined {
  const raw = (request.query.minPosition as string | undefined) ?? request.header('x-cx-min-position');
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^\d{1,19}$/.test(raw)) {
    throw new HttpException(
      { status: 'rejected', errors: [{ field: 'minPosition', message: 'must be a log position: the digits of a `position` the ingest API returned' }] },
      HttpStatus.BAD_REQUEST,
    );
  }
  return BigInt(raw);
}

/**
 * Read-your-writes: a client that sent events passes the `position` it got back, and the query
 * waits (up to 5 s) until every read model the endpoint reads has folded the log up to there;
 * otherwise 503 with Retry-After, so the client never reads a view older than its own write.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ProjectionRunner) private readonly runner: ProjectionRunner,
    @Optional() @Inject(FoldDeferral) private readonly deferral?: FoldDeferral,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const names = this.reflector.getAllAndOverride<string[] | undefined>(READS, [context.getHandler(), context.getClass()]);
    if (!names || context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    const wanted = minPositionOf(request);
    if (wanted === undefined) return next.handle();
    const deadline = Date.now() + MIN_POSITION_WAIT_MS;
    let reached = await this.runner.lowestPosition(names);
    // A reader waits for its own write: the projections in this process fold now, ingesting or not.
    const release = reached < wanted ? this.deferral?.hurry() : undefined;
    try {
      while (reached < wanted && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        reached = await this.runner.lowestPosition(names);
      }
    } finally {
      release?.();
    }
    if (reached < wanted) {
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', '1');
      throw new HttpException(
        {
          status: 'unavailable',
          errors: [{ field: 'minPosition', message: `the read models (${names.join(', ')}) are at position ${reached}, not yet at ${wanted}; retry shortly` }],
        },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    return next.handle();
  }
}
