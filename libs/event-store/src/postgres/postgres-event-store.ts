import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import {
  assertStreamId,
  validateAppendMany,
  assertLimit,
  assertPosition,
  recordedMetadata,
  validateReadStream,
} from '../append-validation.js';
import {
  type AppendedEvent,
  type AppendResult,
  type BatchHandler,
  eachEvent,
  type EventHandler,
  type EventStore,
  EventStoreUsageError,
  type EventToAppend,
  type ExpectedVersion,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type RecordedMetadata,
  type StoreStatus,
  type StreamAppend,
  type SubscribeOptions,
  type Subscription,
  WrongExpectedVersionError,
} from '../event-store.js';
import { followLog } from '../follow-log.js';
import { LAZY_EVENT_COLUMNS, LazyEvent, type LazyEventRow } from './lazy-event.js';

/**
 * Ordering guarantee (why a plain sequence is not enough, and what this does instead).
 *
 * Positions come from a sequence, but transactions commit in any order: a reader that saw
 * position 7 committed could later miss position 6 committing. So:
 *  1. An append takes a session-level advisory lock, checks that its transaction has no id
 *     yet, assigns it one and draws its positions, and releases the lock, all in one short
 *     statement; the INSERT follows outside the lock. Transaction ids and positions are
 *     therefore drawn in the same order: if xid(A) < xid(B) then every position of A < every
 *     position of B.
 *  2. Readers only return events whose transaction id is below the snapshot's xmin (the
 *     oldest transaction still in flight). Every event below a returned position then belongs
 *     to a transaction that has already committed or aborted: nothing can appear behind it.
 * The lock covers only that reservation, not the INSERT nor the commit, so writers overlap both.
 */
const APPEND_LOCK = 4_210_017_002;
/** Writers of one stream take turns on a transaction lock in this key space (two-int form, apart from APPEND_LOCK). */
const STREAM_LOCK_SPACE = 42_100;
const NOTIFY_CHANNEL = 'cx_events';
const UNIQUE_VIOLATION = '23505';
/** Events of the latest stretch of the log read, kept for subscribers that are behind the others (readShared). */
const RECENT_EVENTS = 20_000;

export type PostgresEventStoreOptions = {
  pool: Pool;
  /** 'listen' follows other processes' appends with LISTEN/NOTIFY; 'local' relies on in-process signals and polling. */
  notifications?: 'listen' | 'local';
  adapterName?: string;
};

type EventRow = {
  position: string;
  event_id: string;
  stream_id: string;
  stream_version: string;
  type: string;
  data: unknown;
  metadata: RecordedMetadata;
  recorded_at: Date;
};

const EVENT_COLUMNS = 'position, event_id, stream_id, stream_version, type, data, metadata, recorded_at';

type StoredRow = { id: string; streamId: string; streamVersion: number; position: string };

/** Takes the writers' lock of each stream, in key order so that two multi-stream appends cannot deadlock. */
function lockStreamsSql(appends: ReadonlyArray<{ streamId: string }>): string {
  const keys = [...new Set(appends.map((a) => streamLockKey(a.streamId)))].sort((a, b) => a - b);
  return `SELECT pg_advisory_xact_lock(${STREAM_LOCK_SPACE}, k) FROM unnest('{${keys.join(',')}}'::int[]) WITH ORDINALITY AS t(k, n) ORDER BY n`;
}

/**
 * Reads whole streams, in stream order, as SQL with the ids inline, so that it can ride in the same
 * round trip as BEGIN and the locks (a multi-statement query takes no parameters). Stream ids were
 * validated (letters, digits and `._:@+=-`), so double-quoting each makes a safe array literal
 * (quoted, an id such as `null` stays text).
 */
function readStreamsSql(streamIds: readonly string[]): string {
  for (const streamId of streamIds) assertStreamId(streamId);
  return `SELECT e.* FROM unnest('{${streamIds.map((id) => `"${id}"`).join(',')}}'::text[]) AS s(stream_id)
    CROSS JOIN LATERAL (SELECT ${EVENT_COLUMNS} FROM cx_events WHERE stream_id = s.stream_id ORDER BY stream_version) AS e`;
}

function historiesOf(streamIds: readonly string[], rows: readonly EventRow[]): Map<string, RecordedEvent[]> {
  const histories = new Map<string, RecordedEvent[]>(streamIds.map((id) => [id, []]));
  for (const row of rows) histories.get(row.stream_id)!.push(toRecorded(row));
  return histories;
}

/** 32-bit FNV-1a of the stream id: the key of its writers' lock (a collision only makes two streams take turns). */
export function streamLockKey(streamId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(streamId, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** Index of the first of `events` (in position order) after `position`. */
function firstAfter(events: readonly RecordedEvent[], position: Position): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (events[mid].position <= position) low = mid + 1;
    else high = mid;
  }
  return low;
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    position: BigInt(row.position),
    recordedAt: row.recorded_at,
  };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === UNIQUE_VIOLATION && e.constraint === constraint;
}

function versionMatches(expected: ExpectedVersion, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === -1;
    case 'stream_exists':
      return actual >= 0;
    default:
      return actual === expected;
  }
}

export class PostgresEventStore implements EventStore {
  private readonly pool: Pool;
  private readonly notifications: 'listen' | 'local';
  private readonly adapterName: string;
  private readonly wakers = new Set<() => void>();
  private listener?: Promise<PoolClient | undefined>;
  private notifyPending = false;
  private closed = false;
  /** Moves at each wake-up signal (an append here, or a notification of one elsewhere). */
  private wakeEpoch = 0;
  /** Subscribers' reads in flight, by what they ask for: several subscribers at one position share one query. */
  private readonly sharedReads = new Map<string, { epoch: number; events: Promise<RecordedEvent[]> }>();
  /**
   * The latest stretch of the log read by subscribers: every event after `from` up to `to`, in
   * order (what a read returns can no longer change: every event before the last it returns has
   * committed). Subscribers at any position in it are served from it, so subscribers that drifted
   * apart (a slow projection a few batches behind the others) still read and parse the log once.
   */
  private recent: { from: Position; to: Position; events: RecordedEvent[] } | undefined;

  constructor(options: PostgresEventStoreOptions) {
    this.pool = options.pool;
    this.notifications = options.notifications ?? 'local';
    this.adapterName = options.adapterName ?? 'postgres';
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expectedVersion: ExpectedVersion = 'any',
  ): Promise<AppendResult> {
    const [result] = await this.appendMany([{ streamId, events, expectedVersion }]);
    return result;
  }

  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    validateAppendMany(appends);
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let open = false;
      try {
        // One round trip: open the transaction and queue behind other writers of these streams.
        await client.query(`BEGIN; ${lockStreamsSql(appends)}`);
        open = true;
        const results = await this.appendLocked(client, appends);
        open = false;
        await client.query('COMMIT');
        this.announce(results);
        return results;
      } catch (error) {
        if (open) await client.query('ROLLBACK').catch(() => undefined);
        // Two writers raced with the same new event id: the retry reports it as a duplicate.
        if (isUniqueViolation(error, 'cx_events_event_id_key') && attempt < 3) continue;
        throw error;
      } finally {
        client.release();
      }
    }
  }

  async decideAndAppend(
    plan: { lock: readonly string[]; read: readonly string[] },
    decide: (histories: ReadonlyMap<string, RecordedEvent[]>) => readonly StreamAppend[] | Promise<readonly StreamAppend[]>,
  ): Promise<AppendResult[]> {
    const locked = new Set([...plan.lock, ...plan.read]);
    for (const streamId of locked) assertStreamId(streamId);
    const streams = [...locked].map((streamId) => ({ streamId }));
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let open = false;
      try {
        // One round trip: open the transaction, queue behind other writers of these streams, read the histories.
        const reads = [...new Set(plan.read)];
        const opened = await client.query<EventRow>(
          [streams.length > 0 ? `BEGIN; ${lockStreamsSql(streams)}` : 'BEGIN', ...(reads.length > 0 ? [readStreamsSql(reads)] : [])].join('; '),
        );
        open = true;
        const histories = historiesOf(reads, reads.length > 0 ? (opened as unknown as Array<QueryResult<EventRow>>).at(-1)!.rows : []);
        const appends = await decide(histories);
        // A stream outside the plan may only be created ('no_stream'): the unique stream version guards it, no lock needed.
        const outside = appends.find((a) => !locked.has(a.streamId) && a.expectedVersion !== 'no_stream');
        if (outside) throw new EventStoreUsageError(`decide appended to ${outside.streamId}, which the plan did not lock (only new streams may be created without a lock)`);
        if (appends.length === 0) {
          open = false;
          await client.query('COMMIT');
          return [];
        }
        validateAppendMany(appends);
        const results = await this.appendLocked(client, appends);
        open = false;
        await client.query('COMMIT');
        this.announce(results);
        return results;
      } catch (error) {
        if (open) await client.query('ROLLBACK').catch(() => undefined);
        if (isUniqueViolation(error, 'cx_events_event_id_key') && attempt < 3) continue;
        if (isUniqueViolation(error, 'cx_events_stream_version_key')) {
          // Two writers created the same stream: PostgreSQL names it in the error's detail.
          const streamId = /Key \(stream_id, stream_version\)=\((.*), \d+\)/.exec((error as { detail?: string }).detail ?? '')?.[1] ?? 'unknown';
          throw new WrongExpectedVersionError(streamId, 'no_stream', await this.streamVersion(streamId).catch(() => 0));
        }
        throw error;
      } finally {
        client.release();
      }
    }
  }

  /**
   * Appends inside a transaction the caller opened on `client`. It must be the transaction's
   * first write (otherwise the ordering guarantee would not hold, and this throws). On error
   * the transaction is rolled back. The caller commits, then should call `announce`.
   */
  async appendWithin(
    client: PoolClient,
    streamId: string,
    events: readonly EventToAppend[],
    expectedVersion: ExpectedVersion = 'any',
  ): Promise<AppendResult> {
    const appends = [{ streamId, events, expectedVersion }];
    validateAppendMany(appends);
    await client.query(lockStreamsSql(appends));
    const [result] = await this.appendLocked(client, appends);
    return result;
  }

  /**
   * With the streams' locks held: finds duplicates, checks the expected versions and inserts
   * the new events, all streams in one INSERT. On error in the insert it rolls back.
   */
  private async appendLocked(client: PoolClient, appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    const { rows } = await client.query<{ versions: Record<string, number> | null; stored: StoredRow[] | null }>(
      // One index probe per stream (LATERAL), whatever the planner's statistics say: a table that
      // grew without ANALYZE would otherwise be scanned in bulk for every append.
      // Stream ids and event ids were validated (no commas in either): sent as one comma-separated
      // text each, which costs less to build and to parse than two arrays of quoted elements.
      `SELECT (SELECT json_object_agg(s.stream_id, v.version)
                 FROM unnest(string_to_array($1::text, ',')) AS s(stream_id)
                 CROSS JOIN LATERAL (SELECT max(e.stream_version) AS version FROM cx_events e WHERE e.stream_id = s.stream_id) AS v
                WHERE v.version IS NOT NULL) AS versions,
              (SELECT json_agg(json_build_object('id', event_id, 'streamId', stream_id,
                                                 'streamVersion', stream_version, 'position', position::text))
                 FROM cx_events WHERE event_id = ANY(string_to_array($2::text, ',')::uuid[])) AS stored`,
      [appends.map((a) => a.streamId).join(','), appends.map((a) => a.events.map((e) => e.id).join(',')).join(',')],
    );
    const versions = rows[0].versions ?? {};
    const stored = new Map<string, AppendedEvent>(
      (rows[0].stored ?? []).map((row) => [
        row.id,
        { id: row.id, status: 'duplicate', streamId: row.streamId, streamVersion: row.streamVersion, position: BigInt(row.position) },
      ]),
    );

    // New events per stream, in order; an id already stored, or seen earlier in this call, is a duplicate.
    const seen = new Set<string>();
    const rowsToInsert: Array<{ streamId: string; streamVersion: number; event: EventToAppend }> = [];
    const current = appends.map(({ streamId, events, expectedVersion = 'any' }) => {
      const version = Number(versions[streamId] ?? -1);
      const fresh = events.filter((event) => {
        const id = event.id.toLowerCase();
        if (stored.has(id) || seen.has(id)) return false;
        seen.add(id);
        return true;
      });
      if (fresh.length > 0 && !versionMatches(expectedVersion, version)) {
        throw new WrongExpectedVersionError(streamId, expectedVersion, version);
      }
      fresh.forEach((event, i) => rowsToInsert.push({ streamId, streamVersion: version + 1 + i, event }));
      return version;
    });
    if (rowsToInsert.length > 0) {
      for (const row of await this.insertInOrder(client, rowsToInsert)) stored.set(row.id, row);
    }

    // The first occurrence of a fresh id is appended; any repeat is a duplicate of it.
    const reported = new Set<string>();
    // Plain loops: with a stream per fact, this runs once per event of the batch.
    return appends.map(({ streamId, events }, index) => {
      const results: AppendedEvent[] = new Array(events.length);
      let nextExpectedVersion = current[index];
      let position = 0n;
      for (let i = 0; i < events.length; i++) {
        const id = events[i].id.toLowerCase();
        const row = stored.get(id)!;
        const repeat = reported.has(id);
        reported.add(id);
        const result = row.status === 'appended' && repeat ? { ...row, status: 'duplicate' as const } : row;
        results[i] = result;
        if (result.streamId === streamId && result.streamVersion > nextExpectedVersion) nextExpectedVersion = result.streamVersion;
        if (result.position > position) position = result.position;
      }
      return { streamId, nextExpectedVersion, position, events: results };
    });
  }

  /**
   * Draws the transaction id and the positions under the append lock, in one statement that
   * takes the lock, assigns the id (`pg_current_xact_id()` assigns one without writing), draws
   * the positions and releases the lock; then inserts with those positions, outside the lock,
   * so writers insert in parallel. A transaction that already had an id is refused.
   */
  private async insertInOrder(
    client: PoolClient,
    rows: ReadonlyArray<{ streamId: string; streamVersion: number; event: EventToAppend }>,
  ): Promise<AppendedEvent[]> {
    const reserved = await client.query<{ earlier_xid: string | null; positions: string[] }>(
      `WITH locked AS MATERIALIZED (
              SELECT pg_advisory_lock(${APPEND_LOCK}) AS ok, pg_current_xact_id_if_assigned() AS earlier_xid),
            assigned AS MATERIALIZED (SELECT earlier_xid, pg_current_xact_id() AS xid FROM locked),
            drawn AS MATERIALIZED (
              SELECT array_agg(nextval('cx_events_position_seq') ORDER BY n)::text[] AS positions
                FROM assigned, generate_series(1, $1::int) AS n)
       SELECT assigned.earlier_xid::text, drawn.positions, pg_advisory_unlock(${APPEND_LOCK}) AS released
         FROM assigned, drawn`,
      [rows.length],
    );
    const { earlier_xid: earlierXid, positions } = reserved.rows[0];
    if (earlierXid !== null) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new EventStoreUsageError(
        'append must be the first write of its transaction: positions would no longer follow commit order',
      );
    }
    const payload = rows.map(({ streamId, streamVersion, event }, i) => ({
      position: positions[i],
      event_id: event.id,
      stream_id: streamId,
      stream_version: streamVersion,
      type: event.type,
      data: event.data ?? null,
      metadata: recordedMetadata(event),
    }));
    try {
      // Every row is inserted as given or the statement fails: the outcome is known without RETURNING.
      const inserted = await client.query(
        `INSERT INTO cx_events (position, event_id, stream_id, stream_version, type, data, metadata)
         OVERRIDING SYSTEM VALUE
         SELECT e.position, e.event_id, e.stream_id, e.stream_version, e.type, coalesce(e.data, 'null'::jsonb), e.metadata
           FROM jsonb_to_recordset($1::jsonb)
             AS e(position bigint, event_id uuid, stream_id text, stream_version bigint, type text, data jsonb, metadata jsonb)`,
        [JSON.stringify(payload)],
      );
      if (inserted.rowCount !== rows.length) throw new Error(`inserted ${inserted.rowCount} of ${rows.length} events`);
      return rows.map(({ streamId, streamVersion, event }, i) => ({
        // PostgreSQL gives a uuid back in lower case; the ids were checked to be canonical UUIDs.
        id: event.id.toLowerCase(),
        status: 'appended' as const,
        streamId,
        streamVersion,
        position: BigInt(positions[i]),
      }));
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Wakes this process's subscribers and, with LISTEN/NOTIFY, other processes'. */
  announce(results: AppendResult | readonly AppendResult[]): void {
    const list: readonly AppendResult[] = 'events' in results ? [results] : results;
    if (!list.some((result) => result.events.some((e) => e.status === 'appended'))) return;
    const position = list.reduce((max, r) => (r.position > max ? r.position : max), 0n);
    this.wakeAll();
    if (this.notifications !== 'listen' || this.notifyPending || this.closed) return;
    this.notifyPending = true;
    setImmediate(() => {
      this.notifyPending = false;
      this.pool.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, position.toString()]).catch(() => undefined);
    });
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    validateReadStream(streamId, options);
    const backwards = options.direction === 'backwards';
    const from = options.from ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    const result = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM cx_events
        WHERE stream_id = $1 AND stream_version ${backwards ? '<=' : '>='} $2
        ORDER BY stream_version ${backwards ? 'DESC' : 'ASC'}
        LIMIT $3`,
      [streamId, from, options.limit ?? null],
    );
    return result.rows.map(toRecorded);
  }

  async readAll(after: Position, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return (await this.readLog<EventRow>(EVENT_COLUMNS, after, options)).map(toRecorded);
  }

  /**
   * `readAll`, with each event's metadata and recording time parsed the first time they are read
   * (see LazyEvent): for readers of the whole log whose folds rarely look at them, as a rebuild.
   */
  async readAllLazily(after: Position, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return (await this.readLog<LazyEventRow>(LAZY_EVENT_COLUMNS, after, options)).map((row) => new LazyEvent(row));
  }

  /** The log after `after`, only below every write still in flight (gap safety), in position order. */
  private async readLog<Row extends QueryResultRow>(columns: string, after: Position, options: ReadAllOptions): Promise<Row[]> {
    assertPosition(after);
    assertLimit(options.limit);
    const params: unknown[] = [after.toString(), options.limit ?? 1000];
    let typeFilter = '';
    if (options.types) {
      params.push(options.types);
      typeFilter = 'AND type = ANY($3::text[])';
    }
    const result = await this.pool.query<Row>(
      `SELECT ${columns} FROM cx_events
        WHERE position > $1
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ${typeFilter}
        ORDER BY position
        LIMIT $2`,
      params,
    );
    return result.rows;
  }

  subscribe(after: Position, handler: EventHandler, options: SubscribeOptions = {}): Subscription {
    return this.subscribeBatches(after, eachEvent(handler), options);
  }

  subscribeBatches(after: Position, handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
    assertPosition(after);
    assertLimit(options.limit);
    if (this.notifications === 'listen') void this.ensureListener();
    return followLog({
      after,
      handleBatch: handler,
      read: (position, limit) => this.readShared(position, limit, options.types),
      batchSize: options.limit ?? 500,
      pollIntervalMs: options.pollIntervalMs ?? 500,
      gatherMs: options.gatherMs,
      onWake: (wake) => {
        this.wakers.add(wake);
        return () => this.wakers.delete(wake);
      },
    });
  }

  /**
   * `readAll` for subscribers, shared between the subscribers of this process (the projection
   * runner's projections, say) so that the log is read and parsed once for all of them:
   *  - what the latest stretch read holds (`recent`) is served from it, whatever position in it a
   *    subscriber asks from; only what lies beyond it is read, and then added to it;
   *  - a read still in flight is joined by a subscriber asking the same, unless a wake-up signal
   *    came since it started (it might miss what woke the subscriber: that one reads afresh).
   * Subscribers must not change the events they are handed: other subscribers get the same objects.
   */
  private async readShared(after: Position, limit: number, types: readonly string[] | undefined): Promise<RecordedEvent[]> {
    // Reads of some types only are not kept: the stretch must hold every event of its range.
    if (types) return this.readJoined(after, limit, types);
    const recent = this.recent;
    let served: RecordedEvent[] = [];
    let from = after;
    if (recent && recent.from <= after && after <= recent.to) {
      const first = firstAfter(recent.events, after);
      served = recent.events.slice(first, first + limit);
      if (served.length === limit) return served;
      from = recent.to;
    }
    const read = await this.readJoined(from, limit, undefined);
    this.keepRecent(from, read);
    return served.length === 0 ? read : served.concat(read).slice(0, limit);
  }

  /** One query per position, limit and types in flight, joined by the subscribers asking the same (not across a wake-up). */
  private readJoined(after: Position, limit: number, types: readonly string[] | undefined): Promise<RecordedEvent[]> {
    const key = `${after}/${limit}/${types?.join(',') ?? ''}`;
    const inFlight = this.sharedReads.get(key);
    if (inFlight && inFlight.epoch === this.wakeEpoch) return inFlight.events;
    const entry = { epoch: this.wakeEpoch, events: this.readAll(after, { limit, types }) };
    this.sharedReads.set(key, entry);
    const settled = () => {
      if (this.sharedReads.get(key) === entry) this.sharedReads.delete(key);
    };
    entry.events.then(settled, settled);
    return entry.events;
  }

  /** Adds what a read from `after` returned to the latest stretch when it continues it, else starts a new stretch if it is newer; drops the oldest past RECENT_EVENTS. */
  private keepRecent(after: Position, events: readonly RecordedEvent[]): void {
    if (events.length === 0) return;
    const last = events[events.length - 1].position;
    const recent = this.recent;
    if (recent && recent.from <= after && after <= recent.to) {
      if (last <= recent.to) return;
      recent.events.push(...events.slice(firstAfter(events, recent.to)));
      recent.to = last;
    } else if (!recent || after > recent.to) {
      this.recent = { from: after, to: last, events: [...events] };
    } else {
      return; // Older than the stretch: a subscriber far behind the others reads on its own.
    }
    const kept = this.recent!;
    const excess = kept.events.length - RECENT_EVENTS;
    if (excess > 0) kept.from = kept.events.splice(0, excess)[excess - 1].position;
  }

  async streamVersion(streamId: string): Promise<number> {
    validateReadStream(streamId, {});
    const result = await this.pool.query<{ version: string }>(
      'SELECT coalesce(max(stream_version), -1) AS version FROM cx_events WHERE stream_id = $1',
      [streamId],
    );
    return Number(result.rows[0].version);
  }

  async headPosition(): Promise<Position> {
    const result = await this.pool.query<{ position: string | null }>(
      `SELECT max(position) AS position FROM cx_events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
    );
    return BigInt(result.rows[0].position ?? 0);
  }

  async status(): Promise<StoreStatus> {
    try {
      const result = await this.pool.query<{ position: string | null }>(
        'SELECT (SELECT position FROM cx_events ORDER BY position DESC LIMIT 1) AS position',
      );
      return { status: 'up', adapter: this.adapterName, headPosition: String(result.rows[0].position ?? 0) };
    } catch (error) {
      return { status: 'down', adapter: this.adapterName, error: (error as Error).message };
    }
  }

  /** A connection of its own that LISTENs; it never goes back to the pool, since it keeps listening. */
  private ensureListener(): Promise<PoolClient | undefined> {
    this.listener ??= (async () => {
      let client: PoolClient | undefined;
      try {
        client = await this.pool.connect();
        const listening = client;
        listening.on('notification', this.wakeAll);
        listening.once('error', () => {
          // The connection broke: subscribers fall back to polling until the next subscribe listens again.
          if (this.listener && !this.closed) this.listener = undefined;
          this.dropListener(listening);
        });
        await listening.query(`LISTEN ${NOTIFY_CHANNEL}`);
        return listening;
      } catch {
        if (client) this.dropListener(client);
        this.listener = undefined;
        return undefined;
      }
    })();
    return this.listener;
  }

  private readonly wakeAll = () => {
    this.wakeEpoch++;
    for (const wake of this.wakers) wake();
  };

  private dropListener(client: PoolClient): void {
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    try {
      client.release(true);
    } catch {
      // already released
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const listener = await this.listener;
    this.listener = undefined;
    if (listener) this.dropListener(listener);
  }
}
