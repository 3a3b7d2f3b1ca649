import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ServiceError } from '@grpc/grpc-js';
import {
  ANY,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult,
  type Direction,
  type Filter,
  InvalidTransactionError,
  type JSONEventData,
  NO_STREAM,
  type Position as EsdbPosition,
  type ReadPosition,
  type ReadRevision,
  type ResolvedEvent,
  START,
  END,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { EsdbClient, EsdbSubscriptionSource } from './esdb-client.js';

type LogRecord = {
  position: bigint;
  transactionPosition: bigint;
  streamId: string;
  revision: bigint;
  id: string;
  type: string;
  data: string;
  metadata?: string;
  created: Date;
};

type Decision = 'ok' | 'idempotent' | 'wrong_expected_version' | 'corrupted_idempotency';

/**
 * An in-memory stand-in for `@eventstore/db-client`'s client, for the adapter's unit tests: no
 * server, no network. It follows the server's documented rules where the adapter depends on
 * them, as read in EventStoreDB's source (IndexWriter.CheckCommit, AllReader, Streams.Read):
 * expected-version checks and idempotent repeats (an exact expectation below the current
 * version whose ids match the stream there succeeds without writing; a partial match is an
 * invalid transaction; with ANY, ids found in the same stream are an idempotent repeat), one log
 * position per event (the commit position; the prepare position of a stream read is the first
 * event of its append), inclusive reads of `$all`, exclusive subscriptions, event-type filters,
 * and the client's errors. JSON goes through JSON.stringify/parse as on the wire. Calls yield
 * to the event loop, so concurrent callers interleave.
 */
export class InMemoryEsdb implements EsdbClient {
  readonly log: LogRecord[] = [];
  private readonly streams = new Map<string, LogRecord[]>();
  private readonly byId = new Map<string, LogRecord>();
  private readonly live = new Set<(record: LogRecord) => void>();
  private readonly sources = new Set<Readable>();
  private nextPosition = 1000n;
  /** Set: every call fails with the client's UnavailableError, as when the server is down. */
  unavailable = false;
  /** Runs inside each append before the server decides: lets a test slip a concurrent write in. */
  beforeAppend?: (streamName: string, events: readonly JSONEventData[]) => Promise<void> | void;
  readonly calls = { append: 0, readStream: 0, readAll: 0, subscribe: 0 };

  constructor() {
    this.writeSystemEvent('$settings', '$settings');
  }

  /** A system event, as ESDB writes them ($stats, $settings, $metadata…). */
  writeSystemEvent(streamId = '$stats-127.0.0.1:2113', type = '$statistics-collected'): void {
    this.commit(streamId, [{ id: randomUUID(), contentType: 'application/json', type, data: {}, metadata: undefined }]);
  }

  /** Drops every open subscription with `error`, as a lost connection does. */
  dropSubscriptions(error: Error = unavailableError()): void {
    for (const source of this.sources) source.destroy(error);
  }

  async appendToStream(streamName: string, events: JSONEventData[], options: { expectedRevision: AppendExpectedRevision }): Promise<AppendResult> {
    this.calls.append++;
    await tick();
    this.assertAvailable();
    await this.beforeAppend?.(streamName, events);
    const expected = options.expectedRevision;
    const stream = this.streams.get(streamName) ?? [];
    const current = stream.length - 1;
    const ids = events.map((event) => event.id.toLowerCase());
    const { decision, end } = this.check(streamName, stream, expected, ids);
    switch (decision) {
      case 'wrong_expected_version':
        throw new WrongExpectedVersionError(undefined, {
          streamName,
          current: current < 0 ? NO_STREAM : BigInt(current),
          expected,
        });
      case 'corrupted_idempotency':
        throw new InvalidTransactionError();
      case 'idempotent': {
        const last = stream[end];
        return { success: true, nextExpectedRevision: last.revision, position: { commit: last.position, prepare: last.position } };
      }
      case 'ok': {
        const written = this.commit(streamName, events);
        const last = written[written.length - 1];
        return { success: true, nextExpectedRevision: last.revision, position: { commit: last.position, prepare: last.transactionPosition } };
      }
    }
  }

  /** IndexWriter.CheckCommit, for the cases the gRPC API can produce. */
  private check(streamName: string, stream: LogRecord[], expected: AppendExpectedRevision, ids: string[]): { decision: Decision; end: number } {
    const current = stream.length - 1;
    if (expected === STREAM_EXISTS && current < 0) return { decision: 'wrong_expected_version', end: -1 };
    if (expected === ANY || expected === STREAM_EXISTS) {
      let end = -1;
      for (const [i, id] of ids.entries()) {
        const known = this.byId.get(id);
        if (!known || known.streamId !== streamName) return { decision: i === 0 ? 'ok' : 'corrupted_idempotency', end: -1 };
        end = Number(known.revision);
      }
      return { decision: 'idempotent', end };
    }
    const version = expected === NO_STREAM ? -1 : Number(expected);
    if (version < current) {
      let revision = version;
      for (const [i, id] of ids.entries()) {
        revision++;
        if (stream[revision]?.id === id) continue;
        return { decision: i === 0 ? 'wrong_expected_version' : 'corrupted_idempotency', end: -1 };
      }
      return { decision: 'idempotent', end: revision };
    }
    if (version > current) return { decision: 'wrong_expected_version', end: -1 };
    return { decision: 'ok', end: -1 };
  }

  private commit(streamName: string, events: readonly JSONEventData[]): LogRecord[] {
    const stream = this.streams.get(streamName) ?? [];
    this.streams.set(streamName, stream);
    const transactionPosition = this.nextPosition;
    const written = events.map((event) => {
      const data = JSON.stringify(event.data);
      const record: LogRecord = {
        position: this.nextPosition,
        transactionPosition,
        streamId: streamName,
        revision: BigInt(stream.length),
        id: event.id.toLowerCase(),
        type: event.type,
        data,
        metadata: event.metadata === undefined ? undefined : JSON.stringify(event.metadata),
        created: new Date(),
      };
      // Log positions are byte offsets: increasing, not dense.
      this.nextPosition += 100n + BigInt(data.length);
      stream.push(record);
      this.log.push(record);
      this.byId.set(record.id, record);
      return record;
    });
    for (const record of written) for (const listener of this.live) listener(record);
    return written;
  }

  readStream(
    streamName: string,
    options: { fromRevision?: ReadRevision; direction?: Direction; maxCount?: number | bigint },
  ): AsyncIterable<ResolvedEvent> {
    this.calls.readStream++;
    const self = this;
    return (async function* () {
      await tick();
      self.assertAvailable();
      const stream = self.streams.get(streamName);
      if (!stream) throw new StreamNotFoundError(undefined, streamName);
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      const from = options.fromRevision ?? START;
      const selected =
        options.direction === 'backwards'
          ? stream.filter((r) => from === END || from === START || r.revision <= from).reverse()
          : stream.filter((r) => from === START || (from !== END && r.revision >= from));
      for (const record of selected.slice(0, max)) {
        yield { event: toRecordedEvent(record, { commit: record.position, prepare: record.transactionPosition }) } as ResolvedEvent;
      }
    })();
  }

  readAll(options: { fromPosition?: ReadPosition; direction?: Direction; maxCount?: number | bigint }): AsyncIterable<AllStreamResolvedEvent> {
    this.calls.readAll++;
    const self = this;
    return (async function* () {
      await tick();
      self.assertAvailable();
      const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
      const from = options.fromPosition ?? START;
      const selected =
        options.direction === 'backwards'
          ? self.log.filter((r) => from === END || (from !== START && r.position < from.commit)).reverse()
          : self.log.filter((r) => from === START || (from !== END && r.position >= from.commit));
      for (const record of selected.slice(0, max)) yield toAllResolved(record);
    })();
  }

  subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter }): EsdbSubscriptionSource {
    this.calls.subscribe++;
    const source = new Readable({ objectMode: true, read() {} });
    if (this.unavailable) {
      process.nextTick(() => source.destroy(unavailableError()));
      return Object.assign(source, { unsubscribe: async () => undefined });
    }
    const from = options.fromPosition ?? START;
    const matches = (record: LogRecord) => {
      const filter = options.filter;
      if (!filter) return true;
      const subject = filter.filterOn === 'streamName' ? record.streamId : record.type;
      return 'regex' in filter ? new RegExp(filter.regex).test(subject) : filter.prefixes.some((prefix) => subject.startsWith(prefix));
    };
    const after = (record: LogRecord) => from === START || (from !== END && record.position > from.commit);
    for (const record of this.log) if (after(record) && matches(record)) source.push(toAllResolved(record));
    const listener = (record: LogRecord) => {
      if (matches(record)) source.push(toAllResolved(record));
    };
    this.live.add(listener);
    this.sources.add(source);
    const end = () => {
      this.live.delete(listener);
      this.sources.delete(source);
    };
    source.once('close', end);
    return Object.assign(source, {
      unsubscribe: async () => {
        end();
        source.push(null);
      },
    });
  }

  async dispose(): Promise<void> {
    for (const source of this.sources) source.push(null);
    this.live.clear();
    this.sources.clear();
  }

  private assertAvailable(): void {
    if (this.unavailable) throw unavailableError();
  }
}

export function unavailableError(): UnavailableError {
  return new UnavailableError({ code: 14, message: '14 UNAVAILABLE: No connection established' } as ServiceError);
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function toRecordedEvent(record: LogRecord, position: EsdbPosition) {
  return {
    streamId: record.streamId,
    id: record.id,
    revision: record.revision,
    type: record.type,
    data: JSON.parse(record.data),
    metadata: record.metadata === undefined ? undefined : JSON.parse(record.metadata),
    isJson: true as const,
    created: record.created,
    position,
  };
}

function toAllResolved(record: LogRecord): AllStreamResolvedEvent {
  const position = { commit: record.position, prepare: record.transactionPosition };
  return { event: toRecordedEvent(record, position), commitPosition: record.position } as AllStreamResolvedEvent;
}
