import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  InvalidTransactionError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamDeletedError,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
} from '@eventstore/db-client';
import {
  EventStoreError,
  EventStoreUsageError,
  type ExpectedVersion,
  InvalidAppendError,
  WrongExpectedVersionError,
} from '../event-store.js';
import { fromCurrentRevision, fromEsdbExpectedRevision } from './esdb-mapping.js';

/** EventStoreDB cannot be reached (down, no leader, timed out): retry later; `/health` reports the store down. */
export class EventStoreUnavailableError extends EventStoreError {}

/** The stream has no events: ESDB says so with an error, the port with an empty read. */
export function isStreamNotFound(error: unknown): boolean {
  return error instanceof StreamNotFoundError;
}

/**
 * The stream moved between the adapter's read and its append: ESDB's wrong expected version, or
 * its "invalid transaction" (a batch that repeats only some of the events at the expected place,
 * which ESDB refuses as a corrupted idempotent write). The adapter re-reads and decides again.
 */
export function isConflict(error: unknown): boolean {
  return error instanceof EsdbWrongExpectedVersionError || error instanceof InvalidTransactionError;
}

/** Errors worth a retry after a pause: the connection, the leader or a deadline, not the request. */
export function isTransient(error: unknown): boolean {
  return (
    error instanceof UnavailableError ||
    error instanceof NotLeaderError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof CancelledError ||
    error instanceof EventStoreUnavailableError
  );
}

/**
 * The port's error for an error of the client. `context` names the stream and the caller's
 * expectation, which the port's WrongExpectedVersionError reports (ESDB's own error carries the
 * exact revision the adapter sent). Errors the port has no word for pass through unchanged.
 */
export function translateEsdbError(error: unknown, context: { streamId?: string; expected?: ExpectedVersion } = {}): unknown {
  if (error instanceof EsdbWrongExpectedVersionError) {
    return new WrongExpectedVersionError(
      context.streamId ?? error.streamName,
      context.expected ?? fromEsdbExpectedRevision(error.expectedVersion),
      fromCurrentRevision(error.actualVersion),
    );
  }
  if (error instanceof MaxAppendSizeExceededError) {
    return new InvalidAppendError('batch_too_large', `the batch is larger than EventStoreDB's maximum append size (${error.maxAppendSize} bytes)`);
  }
  if (error instanceof StreamDeletedError) {
    return new EventStoreUsageError(`stream ${context.streamId ?? error.streamName} was deleted in EventStoreDB and cannot be written again`);
  }
  if (error instanceof AccessDeniedError) {
    return new EventStoreError(`EventStoreDB refused access (check the credentials in EVENTSTOREDB_URL): ${error.message}`);
  }
  if (isTransient(error) && !(error instanceof EventStoreUnavailableError)) {
    const unavailable = new EventStoreUnavailableError(`EventStoreDB is unavailable: ${(error as Error).message || (error as Error).name}`);
    (unavailable as { cause?: unknown }).cause = error;
    return unavailable;
  }
  return error;
}
