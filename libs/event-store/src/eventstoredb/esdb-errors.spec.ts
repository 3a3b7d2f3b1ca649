import type { ServiceError } from '@grpc/grpc-js';
import {
  AccessDeniedError,
  DeadlineExceededError,
  InvalidTransactionError,
  MaxAppendSizeExceededError,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
} from '@eventstore/db-client';
import { EventStoreError, EventStoreUsageError, InvalidAppendError, WrongExpectedVersionError } from '../event-store.js';
import { EventStoreUnavailableError, isConflict, isStreamNotFound, isTransient, translateEsdbError } from './esdb-errors.js';

const grpc = (code: number, message: string) => ({ code, message }) as ServiceError;

describe('EventStoreDB error translation', () => {
  it("turns ESDB's wrong expected version into the port's, naming the stream, the caller's expectation and the actual version", () => {
    const esdb = new EsdbWrongExpectedVersionError(undefined, { streamName: 'customer-1', expected: 1n, current: 2n });
    const error = translateEsdbError(esdb, { streamId: 'customer-1', expected: 'stream_exists' });
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ streamId: 'customer-1', expected: 'stream_exists', actual: 2 });
    expect((error as Error).message).toContain('customer-1');
  });

  it("falls back on ESDB's own expectation, and reads 'no stream' as -1", () => {
    const esdb = new EsdbWrongExpectedVersionError(undefined, { streamName: 'customer-2', expected: 3n, current: 'no_stream' });
    expect(translateEsdbError(esdb)).toMatchObject({ name: 'WrongExpectedVersionError', streamId: 'customer-2', expected: 3, actual: -1 });
  });

  it('reports connection trouble as the store being unavailable, keeping the cause', () => {
    for (const cause of [new UnavailableError(grpc(14, '14 UNAVAILABLE: No connection established')), new DeadlineExceededError(grpc(4, 'deadline'))]) {
      const error = translateEsdbError(cause);
      expect(error).toBeInstanceOf(EventStoreUnavailableError);
      expect(error).toBeInstanceOf(EventStoreError);
      expect((error as Error).message).toMatch(/^EventStoreDB is unavailable: /);
      expect((error as { cause?: unknown }).cause).toBe(cause);
      expect(isTransient(error)).toBe(true);
    }
    expect((translateEsdbError(new UnavailableError(grpc(14, '14 UNAVAILABLE: refused'))) as Error).message).toContain('14 UNAVAILABLE: refused');
  });

  it('reports a batch over the maximum append size as too large, a deleted stream and refused access as typed errors', () => {
    const tooLarge = translateEsdbError(new MaxAppendSizeExceededError(undefined, 1_048_576));
    expect(tooLarge).toBeInstanceOf(InvalidAppendError);
    expect(tooLarge).toMatchObject({ reason: 'batch_too_large' });
    expect((tooLarge as Error).message).toContain('1048576 bytes');

    const deleted = translateEsdbError(StreamDeletedError.fromStreamName('customer-9'), { streamId: 'customer-9' });
    expect(deleted).toBeInstanceOf(EventStoreUsageError);
    expect((deleted as Error).message).toContain('customer-9');

    const denied = translateEsdbError(new AccessDeniedError(grpc(7, 'Access denied')));
    expect(denied).toBeInstanceOf(EventStoreError);
    expect((denied as Error).message).toContain('EVENTSTOREDB_URL');
  });

  it('passes errors it has no word for through unchanged', () => {
    const odd = new Error('something else');
    expect(translateEsdbError(odd)).toBe(odd);
  });

  it('tells conflicts (read again and retry), missing streams (empty) and transient errors apart', () => {
    const wrongVersion = new EsdbWrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 1n });
    expect(isConflict(wrongVersion)).toBe(true);
    expect(isConflict(new InvalidTransactionError())).toBe(true);
    expect(isConflict(new UnavailableError())).toBe(false);
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 's'))).toBe(true);
    expect(isStreamNotFound(wrongVersion)).toBe(false);
    expect(isTransient(new UnavailableError())).toBe(true);
    expect(isTransient(wrongVersion)).toBe(false);
    expect(isTransient(new AccessDeniedError())).toBe(false);
  });
});
