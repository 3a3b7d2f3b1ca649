import type { EventStore, Position, RecordedEvent } from '@cx/event-store';
import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import type { BulkFold, BulkWrite, Projection, RebuildPhase } from './projection.js';
import { type LogReader, logReader } from './rebuild-log.js';
import { isSideBySide, markedSideBySide } from './rebuild-rows.js';
import type { RebuildRequests, RebuildRow } from './rebuild-requests.js';
import {
  dependentsOf,
  dropSchemas,
  finishLoad,
  ident,
  liveTables,
  prepareRebuildSchema,
  rebuildSchemaOf,
  retiredSchemaOf,
  swapTables,
  useSchema,
  type DeferredIndexes,
} from './rebuild-schema.js';

export type RebuildLogger = { log(message: string): void; warn(message: string): void; error(message: string): void };

/** The live projections' checkpoints while they are paused for the switch. */
export type FrozenCheckpoints = ReadonlyMap<string, { position: bigint; generation: number }>;

/** What a rebuild needs from the runner that holds the projections' leases. */
export type RebuildHost = {
  store: EventStore;
  dataSource: DataSource;
  requests: RebuildRequests;
  logger: RebuildLogger;
  /** Stops applying the projections live; their checkpoints stay where they are until `resume`. */
  pause(names: readonly string[]): Promise<FrozenCheckpoints>;
  /** Applies them live again, from their checkpoints (moved by the switch when `switched`). */
  resume(names: readonly string[], switched: boolean): Promise<void>;
  /** False once the process stops or loses a projection's lease: the rebuild gives up. */
  mayContinue(names: readonly string[]): boolean;
};

export type RebuildOptions = {
  /** Events read from the log per batch. */
  batchSize: number;
  /** Entries the bulk folds may hold in memory together; past it they write what they hold and `apply` takes over. */
  maxHeld: number;
  /**
   * Build unlogged tables (SET LOGGED before the switch). Off by default: SET LOGGED rewrites each
   * table into the write-ahead log anyway, and measured slower overall than logging the bare
   * tables' inserts as they come (docs/benchmarks.md).
   */
  unlogged: boolean;
  /**
   * Bulk folds send their rows with COPY FROM STDIN (rebuild-rows.ts: RowFormat) when the server
   * takes it; embedded PGlite, whose socket cannot carry COPY FROM STDIN, always gets JSON.
   */
  copy: boolean;
  /** Events a projection without a bulk fold gets per `apply` while building. */
  applyBatchSize: number;
  progressEveryMs: number;
  /** How long the switch waits for readers to let go of the live tables before trying again. */
  lockTimeoutMs: number;
  switchAttempts: number;
};

export const defaultRebuildOptions: RebuildOptions = {
  batchSize: 1_000,
  maxHeld: 1_000_000,
  unlogged: false,
  copy: true,
  applyBatchSize: 20_000,
  progressEveryMs: 1_000,
  lockTimeoutMs: 500,
  switchAttempts: 20,
};

/** The rebuild stopped before switching: the process stops, lost a lease, or a checkpoint moved elsewhere. */
export class RebuildAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RebuildAbortedError';
  }
}

/** Without a bulk fold of its own, a projection's rebuild gathers events and hands them to `apply` in large batches. */
export function batchingFold(projection: Projection, size: number): BulkFold {
  let buffer: RecordedEvent[] = [];
  const take = () => {
    const events = buffer;
    buffer = [];
    return events;
  };
  return {
    get held() {
      return buffer.length;
    },
    add(events) {
      for (const event of events) buffer.push(event);
      if (buffer.length < size) return undefined;
      const batch = take();
      return (manager) => projection.apply(batch, manager);
    },
    finish() {
      const batch = take();
      return batch.length > 0 ? [(manager: EntityManager) => projection.apply(batch, manager)] : [];
    },
  };
}

/** Tables whose keys and indexes are built at the same time. */
const INDEXING_SIDE_BY_SIDE = 3;

/** Writes a projection may have waiting (or running, when side by side) while the next batches are folded. */
const WRITES_IN_FLIGHT = 3;

type Target = {
  projection: Projection;
  schema: string;
  handles: ReadonlySet<string>;
  deferred: DeferredIndexes;
  fold?: BulkFold;
  /** Its writes, chained so they run one after the other in log order; the oldest first. */
  writes: Promise<void>[];
  /** Its last write not marked side by side: the next marked ones wait for it (and so for every write before it). */
  barrier: Promise<unknown>;
  failure?: Error;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Like Promise.all, but waits for every one to end before throwing the first failure: nothing left running behind a cleanup. */
async function allOf(work: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
/**
 * Whether the server takes COPY FROM STDIN: embedded PGlite, behind its socket, loses the
 * protocol's thread on it and ends the session, so it is never tried there.
 */
async function takesCopy(dataSource: DataSource): Promise<boolean> {
  const [row]: Array<{ embedded: boolean }> = await dataSource.query(`SELECT version() LIKE '%PGlite%' AS embedded`);
  return !row.embedded;
}
const lockNotAvailable = (error: unknown) => (error as { code?: string }).code === '55P03';

/**
 * One blue/green rebuild of one or more projections, reading the log once for all of them:
 *
 *  1. building: each projection's migrations create fresh tables in its own schema
 *     (`cx_rebuild_<name>`), without keys or indexes when it has a bulk fold; the log is read from
 *     position 0 up to the head in large batches and folded there (bulk folds write each row about
 *     once), while the live tables go on serving reads and following the log;
 *  2. indexing: the tables get their keys and indexes back (built in one sorted pass each), and
 *     are analysed;
 *  3. catching up: batches folded with `apply` until close to the live checkpoints;
 *  4. switching: the live projections pause, the rebuild folds the last events up to their frozen
 *     checkpoints, and one transaction locks the live tables, moves them out of `public` and the
 *     new ones in, and moves the checkpoints (and their generation, fencing off any other writer);
 *     the live projections resume on the new tables and the old ones are dropped.
 *
 * Readers see the old tables or the new ones, never a mix, never an empty table. A failure at any
 * step leaves the live tables as they were and drops the rebuild's schema.
 */
export class ProjectionRebuild {
  readonly names: string[];
  private readonly ids: string[];
  private readonly targets: Target[];
  private readonly types: string[];
  private readonly readLog: LogReader;
  private position: Position = 0n;
  private target: Position | null = null;
  private phase: RebuildPhase = 'building';
  private started = 0;
  private reported = 0;
  private switched = false;
  /** Seconds spent in each phase, for the log. */
  private readonly timings: string[] = [];
  private phaseStarted = 0;
  private step = 'preparing';

  constructor(
    private readonly host: RebuildHost,
    projections: readonly Projection[],
    rows: readonly RebuildRow[],
    private readonly options: RebuildOptions = defaultRebuildOptions,
  ) {
    this.names = projections.map((p) => p.name);
    this.ids = rows.map((r) => r.id);
    this.targets = projections.map((projection) => ({
      projection,
      schema: rebuildSchemaOf(projection.name),
      handles: new Set(projection.handles),
      deferred: { constraints: [], indexes: [] },
      writes: [],
      barrier: Promise.resolve(),
    }));
    this.types = [...new Set(projections.flatMap((p) => p.handles))];
    this.readLog = logReader(host.store);
  }

  /** Runs the rebuild to its end and records the outcome; never throws. */
  async run(): Promise<'done' | 'failed'> {
    this.started = performance.now();
    const label = this.names.join(', ');
    this.host.logger.log(`rebuild ${this.ids.join(', ')} of ${label}: started`);
    try {
      await this.build();
      const seconds = (performance.now() - this.started) / 1000;
      this.host.logger.log(
        `rebuild of ${label}: switched at position ${this.position} after ${seconds.toFixed(1)} s (${Math.round(this.rate() ?? 0)} events/s; ${this.timings.join(', ')})`,
      );
      return 'done';
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.host.logger.error(`rebuild of ${label} failed in phase ${this.phase} at position ${this.position}: ${message}`);
      if (this.switched) return 'failed';
      const recorded = await this.host.requests
        .finish(this.ids, { status: 'failed', position: this.position, eventsPerSecond: this.rate(), error: `${this.phase}: ${message}` })
        .catch(() => 0);
      // Abandoned meanwhile (the lease went to another process, which dropped the schema and may be rebuilding into it again): leave it.
      if (recorded > 0) await dropSchemas(this.host.dataSource, this.targets.map((t) => t.schema)).catch(() => undefined);
      return 'failed';
    }
  }

  private async build(): Promise<void> {
    const { dataSource, store } = this.host;
    this.enter('preparing');
    await allOf(
      this.targets.map(async (t) => {
        const dependents = await dependentsOf(dataSource.manager, t.projection.tables);
        if (dependents.length > 0) {
          throw new Error(`${dependents.join(', ')} depend(s) on the tables of ${t.projection.name}; a switch would leave them on the old tables`);
        }
        t.deferred = await dataSource.transaction((m) =>
          prepareRebuildSchema(m, t.projection, { unlogged: this.options.unlogged, deferIndexes: t.projection.bulk !== undefined }),
        );
      }),
    );

    this.enter('building');
    // 1. Building: from the start of the log to its head as it is now.
    this.target = await store.headPosition();
    await this.report(true);
    const format = this.options.copy && (await takesCopy(dataSource)) ? 'copy' : 'json';
    for (const t of this.targets) t.fold = t.projection.bulk?.(format) ?? batchingFold(t.projection, this.options.applyBatchSize);
    const held = () => this.targets.reduce((sum, t) => sum + (t.fold?.held ?? 0), 0);
    // What a bulk fold's `add` writes are plain inserts of rows it will not change again (BulkFold): in any order, so side by side.
    const add = (t: Target, events: readonly RecordedEvent[]) => {
      const write = t.fold!.add(events);
      return write && t.projection.bulk ? markedSideBySide(write) : write;
    };
    await this.follow(this.target, add, () => held() > this.options.maxHeld);
    if (this.position < this.target) this.host.logger.warn(`rebuild of ${this.names.join(', ')}: ${held()} entries held at position ${this.position}; writing them and going on batch by batch`);
    await this.writeRest();
    for (const t of this.targets) t.fold = undefined;

    // 2. Indexing.
    this.enter('indexing');
    await this.report(true);
    // Table by table, a few side by side (the server builds indexes in parallel), largest first; each statement in a transaction of its own.
    const sizes: Array<{ schema: string; table: string; bytes: string }> = await dataSource.query(
      `SELECT n.nspname AS schema, c.relname AS table, pg_relation_size(c.oid) AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1::text[]) AND c.relkind = 'r'`,
      [this.targets.map((t) => t.schema)],
    );
    const bytes = (schema: string, table: string) => Number(sizes.find((s) => s.schema === schema && s.table === table)?.bytes ?? 0);
    const tables = this.targets
      .flatMap((t) => finishLoad(t.projection, t.deferred, { unlogged: this.options.unlogged }).map((statements, i) => ({ t, statements, bytes: bytes(t.schema, t.projection.tables[i]) })))
      .sort((a, b) => b.bytes - a.bytes);
    let failed = false;
    await allOf(
      Array.from({ length: Math.min(INDEXING_SIDE_BY_SIDE, tables.length) }, async () => {
        for (let next = tables.shift(); next && !failed; next = tables.shift()) {
          try {
            for (const statement of next.statements) await this.inSchema(next.t, (m) => m.query(statement));
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      }),
    );

    // 3. Catching up with the live checkpoints while they move on.
    this.enter('catching-up');
    // Rounds until within a batch of the live checkpoints; a live projection that keeps running
    // away is caught at the switch, paused.
    for (let round = 0; round < 20; round++) {
      const goal = await this.liveGoal();
      this.target = goal > this.target ? goal : this.target;
      if (goal - this.position <= BigInt(this.options.batchSize)) break;
      await this.follow(goal, (t, events) => (m) => t.projection.apply(events, m));
    }

    // 4. Switching.
    this.enter('switching');
    await this.report(true);
    await dropSchemas(dataSource, this.targets.map((t) => retiredSchemaOf(t.projection.name)));
    for (let attempt = 1; ; attempt++) {
      this.checkMayContinue();
      const frozen = await this.host.pause(this.names);
      let switched = false;
      try {
        const goal = [...frozen.values()].reduce((max, c) => (c.position > max ? c.position : max), 0n);
        await this.follow(goal, (t, events) => (m) => t.projection.apply(events, m));
        await this.switchOver(frozen);
        switched = true;
      } catch (error) {
        if (!lockNotAvailable(error) || attempt >= this.options.switchAttempts) {
          await this.host.resume(this.names, false);
          if (lockNotAvailable(error)) throw new Error(`readers held the live tables in each of ${attempt} attempts to switch (${this.options.lockTimeoutMs} ms each)`);
          throw error;
        }
      }
      await this.host.resume(this.names, switched);
      if (switched) break;
      this.host.logger.warn(`rebuild of ${this.names.join(', ')}: the live tables were busy, switching again (attempt ${attempt + 1})`);
      await sleep(Math.min(50 * attempt, 1_000));
    }
    this.enter('done');
    await dropSchemas(dataSource, this.targets.flatMap((t) => [retiredSchemaOf(t.projection.name), t.schema])).catch((error: unknown) =>
      this.host.logger.warn(`rebuild of ${this.names.join(', ')}: could not drop the old tables: ${(error as Error).message}`),
    );
  }

  /** One transaction: lock the live tables, check the checkpoints did not move, swap the tables, move the checkpoints. */
  private async switchOver(frozen: FrozenCheckpoints): Promise<void> {
    const tables = this.targets.flatMap((t) => t.projection.tables);
    await this.host.dataSource.transaction(async (m) => {
      await m.query(`SELECT set_config('lock_timeout', $1, true)`, [`${this.options.lockTimeoutMs}ms`]);
      const live = await liveTables(m, tables);
      if (live.length > 0) await m.query(`LOCK TABLE ${live.map((t) => `public.${ident(t)}`).join(', ')} IN ACCESS EXCLUSIVE MODE`);
      const rows: Array<{ name: string; position: string; generation: number }> = await m.query(
        'SELECT name, position::text AS position, generation FROM cx_projection_checkpoints WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE',
        [this.names],
      );
      for (const name of this.names) {
        const row = rows.find((r) => r.name === name);
        const expected = frozen.get(name);
        if (!row || !expected || BigInt(row.position) !== expected.position || row.generation !== expected.generation) {
          throw new RebuildAbortedError(`the checkpoint of ${name} moved during the switch: another process applies it`);
        }
      }
      for (const t of this.targets) await swapTables(m, t.projection);
      for (const t of this.targets) {
        await m.query(
          `UPDATE cx_projection_checkpoints
              SET position = $2, version = $3, generation = generation + 1, status = 'running', error = NULL, error_position = NULL, updated_at = now()
            WHERE name = $1`,
          [t.projection.name, this.position.toString(), t.projection.version],
        );
      }
      await this.host.requests.finish(this.ids, { status: 'done', position: this.position, eventsPerSecond: this.rate() }, m);
    });
    this.switched = true;
  }

  /** The highest live checkpoint among the projections: the rebuild must reach it before switching. */
  private async liveGoal(): Promise<Position> {
    const [row]: Array<{ position: string | null }> = await this.host.dataSource.query(
      'SELECT max(position)::text AS position FROM cx_projection_checkpoints WHERE name = ANY($1::text[])',
      [this.names],
    );
    return BigInt(row.position ?? 0);
  }

  /**
   * Reads the log from the rebuild's position until `goal` (or until `stopEarly`), and folds it.
   * The next batch is read while the current one is folded, and a projection's writes run (one at
   * a time, in order) while the next batches are folded: reading, folding in this process and
   * writing in the database overlap. Events past `goal` in the last batch are folded too. Returns
   * once every write is done.
   */
  private async follow(goal: Position, fold: (t: Target, events: readonly RecordedEvent[]) => BulkWrite | undefined, stopEarly?: () => boolean): Promise<void> {
    const limit = this.options.batchSize;
    const read = (after: Position) => {
      const reading = this.readLog(after, limit, this.types);
      reading.catch(() => undefined);
      return reading;
    };
    let next: Promise<RecordedEvent[]> | undefined;
    try {
      while (this.position < goal) {
        this.checkMayContinue();
        const failed = this.targets.find((t) => t.failure);
        if (failed) throw failed.failure;
        const events = await (next ?? read(this.position));
        next = undefined;
        if (events.length === 0) {
          // Everything up to `goal` was visible before this read, and none of it is of our types.
          this.position = goal;
          break;
        }
        const last = events[events.length - 1].position;
        if (events.length === limit && last < goal) next = read(last);
        const from = this.position;
        for (const t of this.targets) {
          const relevant = events.filter((e) => t.handles.has(e.type));
          if (relevant.length === 0) continue;
          let write: BulkWrite | undefined;
          try {
            write = fold(t, relevant);
          } catch (error) {
            throw this.failedOn(t, from, last, error);
          }
          if (write) await this.queue(t, write, from, last);
        }
        // A short batch is everything visible after our position, and `goal` was visible before the read.
        this.position = events.length < limit && goal > last ? goal : last;
        await this.report();
        if (stopEarly?.()) break;
      }
    } finally {
      await Promise.all(this.targets.flatMap((t) => t.writes.splice(0)));
    }
    const failed = this.targets.find((t) => t.failure);
    if (failed) throw failed.failure;
  }

  /** What the bulk folds still hold, written a chunk at a time, each projection's chunks in order, the projections side by side. */
  private async writeRest(): Promise<void> {
    try {
      await allOf(
        this.targets.map(async (t) => {
          for (const write of t.fold!.finish()) {
            if (t.failure) break;
            await this.queue(t, write, this.position, this.position);
          }
        }),
      );
    } finally {
      await Promise.all(this.targets.flatMap((t) => t.writes.splice(0)));
    }
    const failed = this.targets.find((t) => t.failure);
    if (failed) throw failed.failure;
  }

  /**
   * Chains a write after the projection's earlier ones, or, for a write marked side by side, after
   * its last unmarked one only (rebuild-rows.ts: sideBySide); waits for the oldest when too many are
   * waiting.
   */
  private async queue(t: Target, write: BulkWrite, from: Position, last: Position): Promise<void> {
    const free = isSideBySide(write);
    const previous = free ? t.barrier : Promise.all(t.writes);
    const done = previous.then(async () => {
      if (t.failure) return;
      try {
        await this.inSchema(t, write);
      } catch (error) {
        t.failure = this.failedOn(t, from, last, error);
      }
    });
    t.writes.push(done);
    if (!free) t.barrier = done;
    if (t.writes.length > WRITES_IN_FLIGHT) await t.writes.shift();
  }

  private failedOn(t: Target, from: Position, last: Position, error: unknown): Error {
    return new Error(`${t.projection.name} failed on the events after position ${from} up to ${last}: ${(error as Error).message}`, { cause: error });
  }

  private inSchema<T>(t: Target, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.host.dataSource.transaction(async (m) => {
      // The rebuild's writes need no durability of their own: a crash restarts it from the beginning.
      await useSchema(m, t.schema, { synchronousCommit: false });
      return work(m);
    });
  }

  private enter(phase: RebuildPhase | 'preparing' | 'done'): void {
    const now = performance.now();
    if (this.phaseStarted > 0) this.timings.push(`${this.step} ${((now - this.phaseStarted) / 1000).toFixed(1)} s`);
    this.phaseStarted = now;
    this.step = phase;
    if (phase !== 'done' && phase !== 'preparing') this.phase = phase;
  }

  private checkMayContinue(): void {
    if (!this.host.mayContinue(this.names)) throw new RebuildAbortedError('the process stops or no longer holds the projection lease');
  }

  /** Log positions covered per second since the start (about events per second). */
  private rate(): number | null {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 && this.position > 0n ? Number(this.position) / seconds : null;
  }

  private async report(force = false): Promise<void> {
    const now = performance.now();
    if (!force && now - this.reported < this.options.progressEveryMs) return;
    this.reported = now;
    const rate = this.rate();
    const remaining = this.target === null ? null : Number(this.target - this.position);
    const eta = rate && remaining !== null ? Math.max(0, remaining / rate) : null;
    await this.host.requests.progress(this.ids, { phase: this.phase, targetPosition: this.target, position: this.position, eventsPerSecond: rate, etaSeconds: eta });
  }
}
