import {
  type EventToAppend,
  type ExpectedVersion,
  InvalidAppendError,
  InvalidReadError,
  type ReadStreamOptions,
  type RecordedMetadata,
  type StreamAppend,
} from './event-store.js';

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,199}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `complaint.routed.v1`: lower-case dotted words ending in a version. */
export const EVENT_TYPE = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*\.v[1-9][0-9]*$/;
export const MAX_BATCH = 10_000;

export function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || !STREAM_ID.test(streamId)) {
    throw new InvalidAppendError(
      'invalid_stream_id',
      `stream id ${JSON.stringify(streamId)} must be 1-200 characters of letters, digits and . _ : @ + = -, starting with a letter or digit`,
    );
  }
}

export function assertExpectedVersion(expected: unknown): asserts expected is ExpectedVersion {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return;
  throw new InvalidAppendError(
    'invalid_expected_version',
    `expected version ${JSON.stringify(expected)} must be 'any', 'no_stream', 'stream_exists' or an integer >= 0`,
  );
}

/** Deeper than this, the quick check leaves the value to findNonJson (which also finds cycles). */
const QUICK_DEPTH = 64;

/**
 * True when the value is certainly plain JSON by findNonJson's rules: the same walk without
 * building a path per property or tracking visited objects (most of its cost on ingest's hot
 * path). False means "not sure": findNonJson then decides and writes the reason.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !value.includes('\u0000');
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= QUICK_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      // for-in (own keys only, as Object.entries gives them) walks without allocating a key list.
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (key.includes('\u0000') || !isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Finds the first place where a value would not survive a JSON round trip unchanged.
 * Returns a path and a reason, or undefined when the value is plain JSON.
 */
export function findNonJson(value: unknown, path = '$', seen?: Set<object>): string | undefined {
  if (seen === undefined) {
    if (isPlainJson(value, 0)) return undefined;
    seen = new Set<object>();
  }
  switch (typeof value) {
    case 'string':
      return value.includes('\u0000') ? `${path}: strings must not contain NUL characters` : undefined;
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path}: ${value} is not a finite number`;
    case 'object': {
      if (value === null) return undefined;
      if (seen.has(value)) return `${path}: circular reference`;
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        seen.add(value);
        for (let i = 0; i < value.length; i++) {
          const problem = findNonJson(value[i], `${path}[${i}]`, seen);
          if (problem) return problem;
        }
        seen.delete(value);
        return undefined;
      }
      if (proto !== Object.prototype && proto !== null) {
        const kind = value instanceof Date ? 'a Date (send an ISO-8601 string)' : `an instance of ${proto?.constructor?.name ?? 'a class'}`;
        return `${path}: ${kind} is not plain JSON`;
      }
      seen.add(value);
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\u0000')) return `${path}: keys must not contain NUL characters`;
        const problem = findNonJson(item, `${path}.${key}`, seen);
        if (problem) return problem;
      }
      seen.delete(value);
      return undefined;
    }
    default:
      return `${path}: ${typeof value} is not JSON-serialisable`;
  }
}

export function validateAppend(streamId: unknown, events: unknown, expectedVersion: unknown): void {
  assertStreamId(streamId);
  assertExpectedVersion(expectedVersion);
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidAppendError('empty_batch', 'an append needs at least one event');
  }
  if (events.length > MAX_BATCH) {
    throw new InvalidAppendError('batch_too_large', `an append takes at most ${MAX_BATCH} events, got ${events.length}`);
  }
  events.forEach((event: Partial<EventToAppend> | null | undefined, index) => {
    if (typeof event !== 'object' || event === null) {
      throw new InvalidAppendError('invalid_data', 'an event must be an object', index);
    }
    if (typeof event.id !== 'string' || !UUID.test(event.id)) {
      throw new InvalidAppendError('invalid_event_id', `event id ${JSON.stringify(event.id)} must be a UUID`, index);
    }
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw new InvalidAppendError('invalid_type', 'the event has no type', index);
    }
    if (!EVENT_TYPE.test(event.type) || event.type.length > 200) {
      throw new InvalidAppendError(
        'invalid_type',
        `type ${JSON.stringify(event.type)} must be a stable versioned name such as "complaint.routed.v1"`,
        index,
      );
    }
    if (event.data === undefined) {
      throw new InvalidAppendError('invalid_data', 'the event has no data (use {} or null for none)', index);
    }
    const dataProblem = findNonJson(event.data, 'data');
    if (dataProblem) throw new InvalidAppendError('invalid_data', dataProblem, index);
    if (event.metadata !== undefined) {
      const metadata = event.metadata as Record<string, unknown>;
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
        throw new InvalidAppendError('invalid_metadata', 'metadata must be an object', index);
      }
      for (const key of ['correlationId', 'causationId'] as const) {
        const value = metadata[key];
        if (value !== undefined && (typeof value !== 'string' || value.length === 0 || value.length > 200)) {
          throw new InvalidAppendError('invalid_metadata', `metadata.${key} must be a string of 1-200 characters`, index);
        }
      }
      const metaProblem = findNonJson(metadata, 'metadata');
      if (metaProblem) throw new InvalidAppendError('invalid_metadata', metaProblem, index);
    }
  });
}

/** Validates every stream's append; a stream may appear once per call, and the whole call takes at most MAX_BATCH events. */
export function validateAppendMany(appends: unknown): void {
  if (!Array.isArray(appends) || appends.length === 0) {
    throw new InvalidAppendError('empty_batch', 'appendMany needs at least one stream');
  }
  const streams = new Set<string>();
  let total = 0;
  for (const append of appends as StreamAppend[]) {
    validateAppend(append?.streamId, append?.events, append?.expectedVersion ?? 'any');
    if (streams.has(append.streamId)) {
      throw new InvalidAppendError('invalid_stream_id', `stream ${append.streamId} appears twice in one call: merge its events`);
    }
    streams.add(append.streamId);
    total += append.events.length;
  }
  if (total > MAX_BATCH) {
    throw new InvalidAppendError('batch_too_large', `an append takes at most ${MAX_BATCH} events, got ${total}`);
  }
}

/** Metadata as stored: correlation and causation default to the event's own id (the start of a chain). */
export function recordedMetadata(event: EventToAppend): RecordedMetadata {
  const given = event.metadata;
  if (given?.correlationId !== undefined && given.causationId !== undefined) return given as RecordedMetadata;
  return {
    ...event.metadata,
    correlationId: event.metadata?.correlationId ?? event.id,
    causationId: event.metadata?.causationId ?? event.id,
  };
}

export function validateReadStream(streamId: unknown, options: ReadStreamOptions): void {
  assertStreamId(streamId);
  const { from, limit, direction } = options;
  if (from !== undefined && !(Number.isSafeInteger(from) && from >= 0)) {
    throw new InvalidReadError(`from must be a stream version >= 0, got ${String(from)}`);
  }
  if (direction !== undefined && direction !== 'forwards' && direction !== 'backwards') {
    throw new InvalidReadError(`direction must be 'forwards' or 'backwards', got ${String(direction)}`);
  }
  assertLimit(limit);
}

export function assertLimit(limit: unknown): void {
  if (limit !== undefined && !(typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0)) {
    throw new InvalidReadError(`limit must be a positive integer, got ${String(limit)}`);
  }
}

export function assertPosition(position: unknown): asserts position is bigint {
  if (typeof position !== 'bigint' || position < 0n) {
    throw new InvalidReadError(`a position must be a bigint >= 0, got ${String(position)}`);
  }
}
