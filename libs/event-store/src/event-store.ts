/**
 * The event store port. Pure types and errors: no framework, no driver.
 *
 * Positions: every stored event has a position in the global log, a bigint that
 * grows in commit-safe order. A reader that has processed everything up to and
 * including position P (its checkpoint) asks for the events "after P". Position
 * 0n means "before the first event". Positions are not dense: numbers taken by
 * rolled-back transactions are never used.
 *
 * Stream versions count a stream's events from 0; -1 means the stream has none.
 */

export type Position = bigint;

export const START: Position = 0n;

/** What the writer expects of the stream before its events are appended. */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

export type EventMetadata = {
  correlationId?: string;
  causationId?: string;
  [key: string]: unknown;
};

export type EventToAppend = {
  /** A UUID. Appending an id that is already stored is a no-op reported as a duplicate. */
  id: string;
  /** A stable, versioned type name such as `complaint.routed.v1`; never a class name. */
  type: string;
  data: unknown;
  metadata?: EventMetadata;
};

export type RecordedMetadata = EventMetadata & {
  correlationId: string;
  causationId: string;
};

export type RecordedEvent = {
  id: string;
  type: string;
  data: unknown;
  metadata: RecordedMetadata;
  streamId: string;
  streamVersion: number;
  position: Position;
  recordedAt: Date;
};

export type AppendedEvent = {
  id: string;
  status: 'appended' | 'duplicate';
  streamId: string;
  streamVersion: number;
  position: Position;
};

export type AppendResult = {
  streamId: string;
  /** The stream's version after the append: pass it as the next expected version. */
  nextExpectedVersion: number;
  /** The highest position among the batch's events (new or already stored). */
  position: Position;
  /** One entry per input event, in input order. */
  events: AppendedEvent[];
};

export type StreamAppend = {
  streamId: string;
  events: readonly EventToAppend[];
  expectedVersion?: ExpectedVersion;
};

export type ReadStreamOptions = {
  /** First stream version to read (inclusive). Defaults to the start, or the end when reading backwards. */
  from?: number;
  direction?: 'forwards' | 'backwards';
  limit?: number;
};

export type ReadAllOptions = {
  limit?: number;
  /** Only events of these types; positions of the others are skipped over. */
  types?: readonly string[];
};

export type EventHandler = (event: RecordedEvent) => Promise<void> | void;

/**
 * Handles a batch of events in log order. `handled` records progress inside the batch (the
 * position of the last event fully handled), so a failure mid-batch stops the subscription
 * exactly there.
 */
export type BatchHandler = (events: readonly RecordedEvent[], handled: (position: Position) => void) => Promise<void> | void;

/** An event-at-a-time handler as a batch handler: how every adapter's `subscribe` rides on its `subscribeBatches`. */
export function eachEvent(handler: EventHandler): BatchHandler {
  return async (events, handled) => {
    for (const event of events) {
      await handler(event);
      handled(event.position);
    }
  };
}

export type SubscribeOptions = ReadAllOptions & {
  /** Longest wait between two polls when no wake-up signal arrives. */
  pollIntervalMs?: number;
  /**
   * Once caught up, read at most once per this many ms (at the multiples of it on the clock), even
   * when woken sooner: fewer, larger batches for the handler, for up to this much more latency.
   * Where the adapter polls (PostgreSQL); 0 or absent: read as soon as woken.
   */
  gatherMs?: number;
};

export type Subscription = {
  /** Position of the last event handled. */
  readonly position: Position;
  /** Resolves when the subscription stops; rejects with the handler's error if the handler threw. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
};

export type StoreStatus = {
  status: 'up' | 'down';
  adapter: string;
  headPosition?: string;
  error?: string;
};

export type EventStore = {
  append(streamId: string, events: readonly EventToAppend[], expectedVersion?: ExpectedVersion): Promise<AppendResult>;
  /**
   * Appends to several streams in one transaction: all or nothing. Results come in the order of
   * `appends`. A stream may appear once; an event id may appear once in the whole call (a repeat
   * is a duplicate of its first occurrence).
   */
  appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]>;
  /**
   * Reads the `read` streams, hands their histories to `decide`, and appends what it returns, as
   * one atomic step: no other writer changes the `lock` streams (which include every stream
   * `decide` may append to) in between, so a decision never meets a version conflict. `decide`
   * may be called again if the store had to retry, so it must not keep state between calls.
   */
  decideAndAppend(
    plan: { lock: readonly string[]; read: readonly string[] },
    decide: (histories: ReadonlyMap<string, RecordedEvent[]>) => readonly StreamAppend[] | Promise<readonly StreamAppend[]>,
  ): Promise<AppendResult[]>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Events after `after`, in log order, never past an event that may still commit below them. */
  readAll(after: Position, options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catches up from `after`, then follows the log live. The handler sees each event once, in order. */
  subscribe(after: Position, handler: EventHandler, options?: SubscribeOptions): Subscription;
  /** Like subscribe, a batch at a time (at most `limit` events): for handlers that write a batch in one transaction. */
  subscribeBatches(after: Position, handler: BatchHandler, options?: SubscribeOptions): Subscription;
  /** The version of a stream's last event, -1 when it has none. */
  streamVersion(streamId: string): Promise<number>;
  /** The position of the last event a reader can see now (0n on an empty log). */
  headPosition(): Promise<Position>;
  status(): Promise<StoreStatus>;
  close(): Promise<void>;
};

export class EventStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class WrongExpectedVersionError extends EventStoreError {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(
      `stream ${streamId}: expected version ${String(expected)}, actual version ${actual === -1 ? 'no_stream (-1)' : actual}`,
    );
  }
}

export type InvalidAppendReason =
  | 'invalid_stream_id'
  | 'empty_batch'
  | 'batch_too_large'
  | 'invalid_event_id'
  | 'invalid_type'
  | 'invalid_data'
  | 'invalid_metadata'
  | 'invalid_expected_version';

export class InvalidAppendError extends EventStoreError {
  constructor(
    readonly reason: InvalidAppendReason,
    readonly detail: string,
    /** Index of the offending event in the batch, when one event is at fault. */
    readonly index?: number,
  ) {
    super(`${reason}: ${detail}${index === undefined ? '' : ` (event #${index})`}`);
  }
}

export class InvalidReadError extends EventStoreError {}

/** The store was used in a way that would break its ordering guarantees. */
export class EventStoreUsageError extends EventStoreError {}
