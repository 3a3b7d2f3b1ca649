import { randomUUID } from 'node:crypto';
import { type AllStreamResolvedEvent, BACKWARDS, END, FORWARDS, type ReadPosition, type ResolvedEvent, START, StreamDeletedError } from '@eventstore/db-client';
import { assertLimit, assertPosition, assertStreamId, validateAppendMany, validateReadStream } from '../append-validation.js';
import {
  type AppendedEvent,
  type AppendResult,
  type BatchHandler,
  type EventHandler,
  type EventStore,
  eachEvent,
  EventStoreError,
  EventStoreUsageError,
  type EventToAppend,
  type ExpectedVersion,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StoreStatus,
  type StreamAppend,
  type SubscribeOptions,
  type Subscription,
  WrongExpectedVersionError,
} from '../event-store.js';
import { connectEsdb, type EsdbClient } from './esdb-client.js';
import { isConflict, isStreamNotFound, isTransient, translateEsdbError } from './esdb-errors.js';
import { followAll } from './esdb-follow.js';
import {
  acceptsEvent,
  appendIdOf,
  fromEsdbEvent,
  observedRevision,
  positionOf,
  readPositionAfter,
  subscriptionFilter,
  toEsdbEvent,
  versionMatches,
} from './esdb-mapping.js';

export type EventStoreDbEventStoreOptions = {
  client: EsdbClient;
  adapterName?: string;
  /**
   * How many of a stream's latest events an append checks for ids it is about to write again
   * (default 1000). ESDB has no index by event id: a re-sent event older than that, or stored in
   * another stream, is not recognised as a duplicate.
   */
  duplicateWindow?: number;
  /** Attempts of an append or a decision that keeps meeting concurrent writers (default 50). */
  maxAttempts?: number;
  /** Pause before the n-th attempt (default: random, up to 2^n ms, at most 100 ms). */
  retryDelayMs?: (attempt: number) => number;
  /** Deadline of the reads behind `status()` (default 5000 ms). */
  statusDeadlineMs?: number;
};

/** What the adapter knows of a stream before writing to it: its version and the ids it holds. */
type StreamState = { version: number; stored: AppendedEvent[] };

type PlannedAppend = {
  streamId: string;
  expected: ExpectedVersion;
  events: readonly EventToAppend[];
  state: StreamState;
  /** Under the decision's plan (read or locked): its version is the one the decision saw. */
  planned: boolean;
};

/** A stream the decision read changed before its events were written: decide again. */
class DecideAgain {
  constructor(readonly streamId: string) {}
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const maxOf = (positions: readonly Position[]) => positions.reduce((max, p) => (p > max ? p : max), 0n);

/**
 * The event store port on EventStoreDB (gRPC client 6.x, server 22.6 or later).
 *
 * Where ESDB and the port differ, and what this adapter does (see docs/operations.md):
 * - Appends: ESDB checks expected versions itself, but reports neither which events it treated as
 *   duplicates nor each event's position. So an append reads the stream's tail first (its
 *   version, and the ids of the last `duplicateWindow` events), drops the events already there or
 *   repeated in the call, checks the caller's expected version, and appends the rest with the
 *   exact revision it observed. A conflict (another writer got in between) makes it read again
 *   and retry; an 'any' append always gets through, an exact one fails with the actual version.
 *   It then reads the appended events back for their positions; each attempt tags its events'
 *   metadata, so a racing writer's copy of the same ids (which ESDB accepts as an idempotent
 *   write) is reported as a duplicate, not as appended.
 * - appendMany: ESDB has no transaction across streams. Every stream's expected version is
 *   checked before anything is written, then the streams are written one after another. A
 *   writer racing in on a later stream after an earlier one was written can leave the call half
 *   done: the error then names that stream.
 * - decideAndAppend: ESDB has no locks. The decision runs on what was read; its events are
 *   appended at exactly the versions it saw, streams it read but leaves alone are checked again
 *   just before, and any change in between makes the adapter read and decide again (optimistic
 *   concurrency instead of locks; `decide` may therefore run several times).
 * - Reading `$all`: the client reads `$all` without a server-side filter, so `readAll` drops
 *   system events and other types itself; subscriptions filter on the server.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EsdbClient;
  private readonly adapterName: string;
  private readonly duplicateWindow: number;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: (attempt: number) => number;
  private readonly statusDeadlineMs: number;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(options: EventStoreDbEventStoreOptions) {
    this.client = options.client;
    this.adapterName = options.adapterName ?? 'eventstoredb';
    this.duplicateWindow = options.duplicateWindow ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 50;
    this.retryDelayMs = options.retryDelayMs ?? ((attempt) => Math.random() * Math.min(2 ** attempt, 100));
    this.statusDeadlineMs = options.statusDeadlineMs ?? 5000;
  }

  async append(streamId: string, events: readonly EventToAppend[], expectedVersion: ExpectedVersion = 'any'): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, expectedVersion }]);
    return result;
  }

  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    validateAppendMany(appends);
    const states = await Promise.all(appends.map((a) => this.streamState(a.streamId)));
    const planned = appends.map((a, i): PlannedAppend => ({
      streamId: a.streamId,
      expected: a.expectedVersion ?? 'any',
      events: a.events,
      state: states[i],
      planned: false,
    }));
    return this.write(planned);
  }

  async decideAndAppend(
    plan: { lock: readonly string[]; read: readonly string[] },
    decide: (histories: ReadonlyMap<string, RecordedEvent[]>) => readonly StreamAppend[] | Promise<readonly StreamAppend[]>,
  ): Promise<AppendResult[]> {
    const locked = new Set([...plan.lock, ...plan.read]);
    for (const streamId of locked) assertStreamId(streamId);
    for (let attempt = 1; ; attempt++) {
      const histories = new Map<string, RecordedEvent[]>();
      const seen = new Map<string, StreamState>();
      await Promise.all(
        [...locked].map(async (streamId) => {
          if (plan.read.includes(streamId)) {
            const history = await this.readRecorded(streamId, { fromRevision: START, direction: FORWARDS });
            histories.set(streamId, history);
            seen.set(streamId, { version: history.at(-1)?.streamVersion ?? -1, stored: history.map((e) => this.asStored(e)) });
          } else {
            seen.set(streamId, await this.streamState(streamId));
          }
        }),
      );
      const appends = await decide(histories);
      // A stream outside the plan may only be created ('no_stream'): ESDB's own check guards it.
      const outside = appends.find((a) => !locked.has(a.streamId) && a.expectedVersion !== 'no_stream');
      if (outside) {
        throw new EventStoreUsageError(`decide appended to ${outside.streamId}, which the plan did not lock (only new streams may be created without a lock)`);
      }
      if (appends.length === 0) return [];
      validateAppendMany(appends);

      const planned = await Promise.all(
        appends.map(async (a): Promise<PlannedAppend> => {
          const state = seen.get(a.streamId);
          return {
            streamId: a.streamId,
            expected: a.expectedVersion ?? 'any',
            events: a.events,
            state: state ?? (await this.streamState(a.streamId)),
            planned: state !== undefined,
          };
        }),
      );
      try {
        // Streams the decision saw but does not write: ESDB cannot hold them, so check them again now.
        for (const [streamId, state] of seen) {
          if (appends.some((a) => a.streamId === streamId)) continue;
          if ((await this.streamVersion(streamId)) !== state.version) throw new DecideAgain(streamId);
        }
        return await this.write(planned);
      } catch (error) {
        if (!(error instanceof DecideAgain)) throw error;
        if (attempt >= this.maxAttempts) {
          const version = seen.get(error.streamId)?.version ?? -1;
          throw new WrongExpectedVersionError(error.streamId, version, await this.streamVersion(error.streamId));
        }
        await this.pause(attempt);
      }
    }
  }

  /**
   * Writes the planned appends, stream after stream, in input order. Ids already stored (in the
   * states read) or repeated in the call are duplicates; every stream's expectation is checked
   * before the first write.
   */
  private async write(planned: readonly PlannedAppend[]): Promise<AppendResult[]> {
    const outcome = new Map<string, AppendedEvent>();
    const remember = (stored: readonly AppendedEvent[]) => {
      for (const event of stored) if (!outcome.has(event.id)) outcome.set(event.id, event);
    };
    for (const append of planned) remember(append.state.stored);
    // The first occurrence of each id in the call is the one that may be written.
    const first = new Map<string, string>();
    planned.forEach((append, p) =>
      append.events.forEach((event, i) => {
        const id = event.id.toLowerCase();
        if (!first.has(id)) first.set(id, `${p}:${i}`);
      }),
    );
    const freshOf = (append: PlannedAppend, p: number) =>
      append.events.filter((event, i) => {
        const id = event.id.toLowerCase();
        return first.get(id) === `${p}:${i}` && !outcome.has(id);
      });

    planned.forEach((append, p) => {
      if (freshOf(append, p).length > 0 && !versionMatches(append.expected, append.state.version)) {
        throw new WrongExpectedVersionError(append.streamId, append.expected, append.state.version);
      }
    });

    let written = 0;
    for (const [p, append] of planned.entries()) {
      for (let attempt = 1; ; attempt++) {
        const fresh = freshOf(append, p);
        if (fresh.length === 0) break;
        if (!versionMatches(append.expected, append.state.version)) {
          throw new WrongExpectedVersionError(append.streamId, append.expected, append.state.version);
        }
        const appendId = randomUUID();
        try {
          await this.client.appendToStream(
            append.streamId,
            fresh.map((event) => toEsdbEvent(event, appendId)),
            { expectedRevision: observedRevision(append.state.version) },
          );
        } catch (error) {
          if (!isConflict(error)) throw translateEsdbError(error, { streamId: append.streamId, expected: append.expected });
          if (append.planned) {
            // The decision saw another version of this stream. Before anything is written it can
            // simply decide again; after, the call is half done and can only fail.
            if (written === 0) throw new DecideAgain(append.streamId);
            throw new WrongExpectedVersionError(
              append.streamId,
              append.expected === 'any' ? append.state.version : append.expected,
              await this.streamVersion(append.streamId),
            );
          }
          if (attempt >= this.maxAttempts) {
            throw new WrongExpectedVersionError(append.streamId, append.expected, await this.streamVersion(append.streamId));
          }
          await this.pause(attempt);
          append.state = await this.streamState(append.streamId);
          remember(append.state.stored);
          continue;
        }
        for (const event of await this.readBack(append.streamId, append.state.version, fresh, appendId)) outcome.set(event.id, event);
        append.state = { version: append.state.version + fresh.length, stored: append.state.stored };
        written++;
        break;
      }
    }

    // Results in input order; a repeat of an id appended in this call is a duplicate of it.
    const reported = new Set<string>();
    return planned.map((append) => {
      const events = append.events.map((event) => {
        const id = event.id.toLowerCase();
        const result = outcome.get(id)!;
        const repeat = reported.has(id);
        reported.add(id);
        return result.status === 'appended' && repeat ? { ...result, status: 'duplicate' as const } : result;
      });
      const inStream = events.filter((e) => e.streamId === append.streamId).map((e) => e.streamVersion);
      return {
        streamId: append.streamId,
        nextExpectedVersion: Math.max(append.state.version, ...inStream),
        position: maxOf(events.map((e) => e.position)),
        events,
      };
    });
  }

  /**
   * The events just appended after `version`, read back for their positions. Events this attempt
   * did not tag were written by a racing writer with the same ids (ESDB took ours as an
   * idempotent repeat): they are duplicates.
   */
  private async readBack(streamId: string, version: number, fresh: readonly EventToAppend[], appendId: string): Promise<AppendedEvent[]> {
    const read = await this.readRaw(streamId, { fromRevision: BigInt(version + 1), direction: FORWARDS, maxCount: fresh.length });
    return fresh.map((event, i) => {
      const resolved = read[i];
      const recorded = resolved && fromEsdbEvent(resolved);
      if (!recorded || recorded.id !== event.id.toLowerCase()) {
        throw new EventStoreError(`stream ${streamId}: EventStoreDB did not return the events just appended at version ${version + 1 + i}`);
      }
      return { ...this.asStored(recorded), status: appendIdOf(resolved) === appendId ? 'appended' : 'duplicate' };
    });
  }

  private asStored(event: RecordedEvent): AppendedEvent {
    return { id: event.id, status: 'duplicate', streamId: event.streamId, streamVersion: event.streamVersion, position: event.position };
  }

  /** The stream's version and its latest events (the duplicate window). */
  private async streamState(streamId: string): Promise<StreamState> {
    const latest = await this.readRecorded(streamId, { fromRevision: END, direction: BACKWARDS, maxCount: this.duplicateWindow });
    return { version: latest[0]?.streamVersion ?? -1, stored: latest.map((e) => this.asStored(e)) };
  }

  private async readRaw(
    streamId: string,
    options: { fromRevision: bigint | typeof START | typeof END; direction: typeof FORWARDS | typeof BACKWARDS; maxCount?: number },
  ): Promise<ResolvedEvent[]> {
    try {
      return await collect(this.client.readStream(streamId, options));
    } catch (error) {
      // No stream, or one deleted in ESDB: the port reads it as empty.
      if (isStreamNotFound(error) || error instanceof StreamDeletedError) return [];
      throw translateEsdbError(error, { streamId });
    }
  }

  private async readRecorded(
    streamId: string,
    options: { fromRevision: bigint | typeof START | typeof END; direction: typeof FORWARDS | typeof BACKWARDS; maxCount?: number },
  ): Promise<RecordedEvent[]> {
    return (await this.readRaw(streamId, options)).map(fromEsdbEvent);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    validateReadStream(streamId, options);
    const backwards = options.direction === 'backwards';
    return this.readRecorded(streamId, {
      fromRevision: options.from !== undefined ? BigInt(options.from) : backwards ? END : START,
      direction: backwards ? BACKWARDS : FORWARDS,
      maxCount: options.limit,
    });
  }

  async readAll(after: Position, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    assertPosition(after);
    assertLimit(options.limit);
    const limit = options.limit ?? 1000;
    // The start position itself comes back (ESDB reads are inclusive): one more than asked.
    const page = options.types ? Math.max(limit + 1, 500) : limit + 1;
    const events: RecordedEvent[] = [];
    let from = after;
    for (;;) {
      const read = await this.readAllRaw({ fromPosition: readPositionAfter(from), direction: FORWARDS, maxCount: page });
      for (const resolved of read) {
        if (events.length < limit && positionOf(resolved) > from && acceptsEvent(resolved, options.types)) events.push(fromEsdbEvent(resolved));
      }
      if (events.length >= limit || read.length < page) return events;
      from = positionOf(read[read.length - 1]);
    }
  }

  private async readAllRaw(options: { fromPosition: ReadPosition; direction: typeof FORWARDS | typeof BACKWARDS; maxCount: number; deadline?: number }): Promise<AllStreamResolvedEvent[]> {
    try {
      return await collect(this.client.readAll(options));
    } catch (error) {
      throw translateEsdbError(error);
    }
  }

  subscribe(after: Position, handler: EventHandler, options: SubscribeOptions = {}): Subscription {
    return this.subscribeBatches(after, eachEvent(handler), options);
  }

  /**
   * Catches up by reading `$all` a page at a time, then follows it with a subscription filtered on
   * the server (ESDB pushes: `pollIntervalMs` does not apply).
   */
  subscribeBatches(after: Position, handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
    assertPosition(after);
    assertLimit(options.limit);
    if (this.closed) throw new EventStoreUsageError('the event store is closed');
    const types = options.types;
    const filter = subscriptionFilter(types);
    const subscription = followAll({
      after,
      handleBatch: handler,
      batchSize: options.limit ?? 500,
      read: (from, limit) => this.readAll(from, { limit, types }),
      subscribe: (from) => this.client.subscribeToAll({ fromPosition: readPositionAfter(from), filter }),
      accept: (resolved) => acceptsEvent(resolved, types),
      toRecorded: fromEsdbEvent,
      positionOf,
      isTransient,
      translateError: (error) => translateEsdbError(error),
    });
    this.subscriptions.add(subscription);
    void subscription.done.finally(() => this.subscriptions.delete(subscription)).catch(() => undefined);
    return subscription;
  }

  async streamVersion(streamId: string): Promise<number> {
    validateReadStream(streamId, {});
    const [last] = await this.readRaw(streamId, { fromRevision: END, direction: BACKWARDS, maxCount: 1 });
    return last ? Number(last.event!.revision) : -1;
  }

  /** The position of the last platform event in `$all` (system events skipped), 0n when there is none. */
  async headPosition(deadline?: number): Promise<Position> {
    const page = 100;
    let from: ReadPosition = END;
    let before: Position | undefined;
    for (;;) {
      const read = await this.readAllRaw({ fromPosition: from, direction: BACKWARDS, maxCount: page, ...(deadline ? { deadline } : {}) });
      for (const resolved of read) {
        if (before !== undefined && positionOf(resolved) >= before) continue;
        if (acceptsEvent(resolved)) return positionOf(resolved);
      }
      if (read.length < page) return 0n;
      const last = read[read.length - 1];
      before = positionOf(last);
      from = last.event?.position ?? { commit: before, prepare: before };
    }
  }

  async status(): Promise<StoreStatus> {
    try {
      const head = await this.headPosition(this.statusDeadlineMs);
      return { status: 'up', adapter: this.adapterName, headPosition: head.toString() };
    } catch (error) {
      return { status: 'down', adapter: this.adapterName, error: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await this.client.dispose();
  }

  private pause(attempt: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.retryDelayMs(attempt)));
  }
}

/** The EventStoreDB adapter on a connection string: what the platform runs when EVENTSTOREDB_URL is set. */
export function openEventStoreDb(url: string, options: Omit<EventStoreDbEventStoreOptions, 'client'> = {}): EventStoreDbEventStore {
  return new EventStoreDbEventStore({ ...options, client: connectEsdb(url) });
}
