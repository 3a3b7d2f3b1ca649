import type { EventStore, Position, RecordedEvent, Subscription } from '@cx/event-store';
import { streamLockKey } from '@cx/event-store';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { FoldPacer } from './fold-deferral.js';
import type { Projection, ProjectionState, ProjectionStatus } from './projection.js';
import { defaultRebuildOptions, type FrozenCheckpoints, ProjectionRebuild, type RebuildOptions } from './rebuild.js';
import { RebuildConflictError, RebuildRequests, type RebuildRow } from './rebuild-requests.js';
import { dropSchemas, rebuildSchemaOf } from './rebuild-schema.js';

/** TypeORM answers an UPDATE on PostgreSQL with [rows, rowCount], other statements with rows. */
function returnedRows<T>(result: unknown): T[] {
  return (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? result[0] : result) as T[];
}

const DEFAULT_GATHER_MS = 100;
/**
 * How far, in log positions, a projection may run ahead of the slowest projection following the
 * log in the same process. The event store keeps the latest stretch of the log its subscribers read
 * (20,000 events for PostgreSQL) and serves every subscriber inside it from memory: projections kept
 * within it read and parse each event once between them, instead of once each when the cheap ones
 * race ahead and the costly ones fall out of the stretch.
 */
export const DEFAULT_MAX_SPREAD = 10_000;
/** A projection held back re-checks at least this often (the slowest may have stopped or failed). */
const HELD_RECHECK_MS = 250;

/** Advisory-lock key space of projection leases (two-int form). */
const LEASE_SPACE = 42_101;

export type RunnerLogger = { log(message: string): void; warn(message: string): void; error(message: string): void };

export type ProjectionRunnerOptions = {
  store: EventStore;
  dataSource: DataSource;
  pool: Pool;
  projections: readonly Projection[];
  /**
   * Take a lease (a session advisory lock) per projection, so that of several processes on one
   * database only one applies a given projection; the others stand by and take over when it
   * stops. Needed on a real server; the embedded database has a single process anyway.
   */
  lease: boolean;
  batchSize?: number;
  /**
   * Once caught up, each projection reads the log at most once per this many ms (all of them at
   * the same moments, so they share the read): a steady stream of appends is folded in batches of
   * that many ms rather than one small transaction per projection per append. Default 100; 0 reads
   * as soon as woken.
   */
  gatherMs?: number;
  /** Asked before each live batch is folded; may hold it back for a while (FoldDeferral: ingest first). None: fold at once. */
  pacer?: FoldPacer;
  /**
   * A projection more than this many log positions ahead of the slowest projection this process
   * follows the log with waits, before folding its next batch, until that one catches up to within
   * it (see DEFAULT_MAX_SPREAD, the default). Projections that are not following the log here
   * (standing by, failed, paused for a switch, rebuilding, held by another process) hold nobody
   * back. 0: no limit.
   */
  maxSpread?: number;
  leaseRetryMs?: number;
  /** How often a process looks for rebuilds and retries requested by other processes. */
  requestPollMs?: number;
  rebuild?: Partial<RebuildOptions>;
  logger?: RunnerLogger;
};

/** Another process moved the checkpoint under us: our lease was lost. Never apply twice: stop. */
export class CheckpointFencedError extends Error {
  constructor(readonly projection: string) {
    super(`projection ${projection}: the checkpoint moved in another process; this one stops applying it`);
    this.name = 'CheckpointFencedError';
  }
}

export class UnknownProjectionError extends Error {
  constructor(
    readonly projection: string,
    readonly known: readonly string[],
  ) {
    super(`unknown projection ${JSON.stringify(projection)}; known: ${known.join(', ')}`);
    this.name = 'UnknownProjectionError';
  }
}

/** A retry of a projection that has not failed: there is nothing to resume. */
export class NotFailedError extends Error {
  constructor(
    readonly projection: string,
    readonly status: string,
  ) {
    super(`projection ${projection} is ${status}, not failed: nothing to retry`);
    this.name = 'NotFailedError';
  }
}

type Running = {
  projection: Projection;
  handles: ReadonlySet<string>;
  position: Position;
  generation: number;
  status: ProjectionStatus;
  /** This process holds the projection's lease (always true without leases once started). */
  leased: boolean;
  /** Stopped for a rebuild's switch: nothing restarts it until the rebuild resumes it. */
  paused: boolean;
  /** A rebuild of it runs in this process. */
  rebuilding: boolean;
  subscription?: Subscription;
  retry?: NodeJS.Timeout;
  /** The transaction id of the last batch this process committed since it took up the projection: what apply gets as `previousCommit`. */
  lastCommit?: string;
};

/**
 * Folds the log into every read model. Each projection follows the global log from its
 * checkpoint; each batch is applied and the checkpoint moved in one transaction, with a
 * compare-and-set on the checkpoint (position and generation) so that a process whose lease was
 * lost cannot apply a batch twice, nor into tables a rebuild has replaced. A batch that fails is
 * retried one event at a time, so the projection stops at exactly the event that fails, with its
 * position and error recorded.
 *
 * Rebuilds (blue/green, see ProjectionRebuild) are requested through `cx_projection_rebuilds` by
 * any process and run by the process holding the projection's lease. A projection whose version
 * changed keeps its old tables serving reads and is rebuilt the same way.
 */
export class ProjectionRunner {
  private readonly running = new Map<string, Running>();
  private leaseClient?: PoolClient;
  private leaseQueries: Promise<unknown> = Promise.resolve();
  /** Moves each time the leases are lost: rebuilds started before give up. */
  private leaseEpoch = 0;
  private started = false;
  private stopped = false;
  private readonly batchSize: number;
  private readonly logger: RunnerLogger;
  private readonly requests: RebuildRequests;
  private readonly rebuildOptions: RebuildOptions;
  private readonly rebuilds = new Set<Promise<unknown>>();
  private pollTimer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  /** Projections held back by maxSpread, woken to look again whenever a checkpoint moves or a projection stops. */
  private readonly held = new Set<() => void>();
  /** Identifies this process in cx_projection_rebuilds.owner. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.logger = options.logger ?? { log: () => undefined, warn: () => undefined, error: () => undefined };
    this.requests = new RebuildRequests(options.dataSource);
    this.rebuildOptions = { ...defaultRebuildOptions, ...options.rebuild };
    const names = options.projections.map((p) => p.name);
    if (new Set(names).size !== names.length) throw new Error(`duplicate projection names: ${names.join(', ')}`);
    const schemas = names.map(rebuildSchemaOf);
    if (new Set(schemas).size !== schemas.length) throw new Error(`projection names that differ only in case or punctuation: ${names.join(', ')}`);
  }

  get projections(): readonly Projection[] {
    return this.options.projections;
  }

  async start(): Promise<void> {
    for (const projection of this.options.projections) {
      await this.register(projection);
      this.running.set(projection.name, {
        projection,
        handles: new Set(projection.handles),
        position: 0n,
        generation: 0,
        status: 'starting',
        leased: !this.options.lease,
        paused: false,
        rebuilding: false,
      });
    }
    if (this.options.lease) {
      this.leaseClient = await this.options.pool.connect();
      this.leaseClient.on('error', (error) => this.leaseLost(error));
    } else {
      // No leases: this is the only process, so a rebuild marked running was cut short by its end.
      await this.abandonRebuilds(this.options.projections.map((p) => p.name));
    }
    this.started = true;
    await Promise.all([...this.running.values()].map((run) => this.run(run)));
    this.pollTimer = setInterval(() => void this.poll(), this.options.requestPollMs ?? 1_000);
    this.pollTimer.unref();
  }

  /** Makes sure the projection has a checkpoint. A changed version is handled when its lease is taken (run). */
  private async register(projection: Projection): Promise<void> {
    await this.options.dataSource.query(
      'INSERT INTO cx_projection_checkpoints (name, version) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [projection.name, projection.version],
    );
  }

  private async run(run: Running): Promise<void> {
    if (this.stopped || run.paused) return;
    const name = run.projection.name;
    if (this.leaseClient && !run.leased) {
      const client = this.leaseClient;
      // One query at a time on the lease connection (projections start together).
      const asked = this.leaseQueries.then(() => client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LEASE_SPACE, streamLockKey(name)]));
      this.leaseQueries = asked.catch(() => undefined);
      const { rows } = await asked;
      if (!rows[0].ok) {
        run.status = 'standby';
        run.retry = setTimeout(() => void this.run(run), this.options.leaseRetryMs ?? 2_000);
        return;
      }
      run.leased = true;
      // Whoever held the lease before us is gone: a rebuild it was running will never finish.
      await this.abandonRebuilds([name]);
    }
    const [row] = returnedRows<{ position: string; generation: number; version: number }>(
      await this.options.dataSource.query(
        `UPDATE cx_projection_checkpoints
            SET status = CASE WHEN version = $2 THEN 'running' ELSE 'rebuilding' END,
                error = CASE WHEN version = $2 THEN NULL ELSE error END,
                error_position = CASE WHEN version = $2 THEN NULL ELSE error_position END,
                updated_at = now()
          WHERE name = $1 RETURNING position, generation, version`,
        [name, run.projection.version],
      ),
    );
    run.position = BigInt(row.position);
    run.lastCommit = undefined;
    run.generation = row.generation;
    if (row.version !== run.projection.version) {
      // New code, old tables: they keep serving reads (as of their version) until a rebuild switches them.
      run.status = 'rebuilding';
      this.logger.warn(`projection ${name}: version ${row.version} -> ${run.projection.version}, rebuilding it blue/green`);
      await this.requests.request([{ name, version: run.projection.version }]).catch((error: unknown) => {
        if (!(error instanceof RebuildConflictError)) throw error;
      });
      void this.poll();
      return;
    }
    run.status = 'running';
    this.logger.log(`projection ${name} v${run.projection.version} running from position ${run.position}`);
    const subscription = this.options.store.subscribeBatches(run.position, (events, handled) => this.applyBatch(run, events, handled), {
      limit: this.batchSize,
      gatherMs: this.options.gatherMs ?? DEFAULT_GATHER_MS,
    });
    run.subscription = subscription;
    subscription.done.catch(async (error: unknown) => {
      if (this.stopped || run.subscription !== subscription) return;
      run.status = 'failed';
      this.wakeHeld();
      if (error instanceof CheckpointFencedError) {
        this.logger.warn(error.message);
        await this.releaseLease(run);
        run.retry = setTimeout(() => void this.run(run), this.options.leaseRetryMs ?? 2_000);
        return;
      }
      this.logger.error(`projection ${name} stopped: ${(error as Error).message}`);
    });
  }

  private async applyBatch(run: Running, events: readonly RecordedEvent[], handled: (position: Position) => void): Promise<void> {
    const last = events[events.length - 1].position;
    const subscription = run.subscription;
    const wanted = () => !this.stopped && !run.paused && run.subscription === subscription;
    await this.keepTogether(run, wanted);
    await this.options.pacer?.beforeFold(run.projection.name, last, events.length >= this.batchSize, wanted);
    const relevant = events.filter((e) => run.handles.has(e.type));
    try {
      await this.commit(run, relevant, last);
      handled(last);
      return;
    } catch (error) {
      if (error instanceof CheckpointFencedError) throw error;
    }
    // Find the event that fails: one at a time, each in its own transaction.
    for (const event of events) {
      try {
        await this.commit(run, run.handles.has(event.type) ? [event] : [], event.position);
        handled(event.position);
      } catch (error) {
        if (error instanceof CheckpointFencedError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        await this.options.dataSource.query(
          `UPDATE cx_projection_checkpoints SET status = 'failed', error = $2, error_position = $3, updated_at = now()
            WHERE name = $1 AND generation = $4`,
          [run.projection.name, `${event.type} in ${event.streamId}: ${message}`.slice(0, 2000), event.position.toString(), run.generation],
        );
        throw error;
      }
    }
  }

  /** Waits while this projection is more than maxSpread positions ahead of the slowest one following the log here. */
  private async keepTogether(run: Running, wanted: () => boolean): Promise<void> {
    const spread = BigInt(this.options.maxSpread ?? DEFAULT_MAX_SPREAD);
    if (spread <= 0n) return;
    while (wanted()) {
      let slowest: Position | undefined;
      for (const other of this.running.values()) {
        if (other === run || other.status !== 'running' || other.paused || !other.subscription) continue;
        if (slowest === undefined || other.position < slowest) slowest = other.position;
      }
      if (slowest === undefined || run.position - slowest <= spread) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.held.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, HELD_RECHECK_MS);
        this.held.add(wake);
      });
    }
  }

  private wakeHeld(): void {
    for (const wake of [...this.held]) wake();
  }

  /** Applies events and moves the checkpoint from where this process left it, in one transaction. */
  private async commit(run: Running, events: readonly RecordedEvent[], to: Position): Promise<void> {
    const previousCommit = run.lastCommit;
    // Until this one commits, there is no last commit to speak of (it may fail, or fail to commit).
    run.lastCommit = undefined;
    const committing = await this.options.dataSource.transaction(async (manager) => {
      if (events.length > 0) await run.projection.apply(events, manager, { previousCommit });
      const moved = returnedRows<{ xid: string }>(
        await manager.query(
          `UPDATE cx_projection_checkpoints SET position = $3, updated_at = now()
            WHERE name = $1 AND position = $2 AND generation = $4 RETURNING xmin::text AS xid`,
          [run.projection.name, run.position.toString(), to.toString(), run.generation],
        ),
      );
      if (moved.length === 0) throw new CheckpointFencedError(run.projection.name);
      return moved[0].xid;
    });
    run.position = to;
    run.lastCommit = committing;
    this.wakeHeld();
  }

  /** Every projection's checkpoint, status, lag and rebuilds, as stored (so it covers other processes' projections too). */
  async states(): Promise<ProjectionState[]> {
    const names = this.options.projections.map((p) => p.name);
    const rows: Array<{
      name: string;
      version: number;
      position: string;
      status: ProjectionStatus;
      error: string | null;
      error_position: string | null;
      updated_at: Date | null;
      lag_events: string;
      oldest: Date | null;
    }> = await this.options.dataSource.query(
      `SELECT c.name, c.version, c.position, c.status, c.error, c.error_position, c.updated_at,
              (SELECT count(*) FROM cx_events e WHERE e.position > c.position) AS lag_events,
              (SELECT min(e.recorded_at) FROM cx_events e WHERE e.position > c.position) AS oldest
         FROM cx_projection_checkpoints c
        WHERE c.name = ANY($1)
        ORDER BY c.name`,
      [names],
    );
    const rebuilds = await this.requests.views(names);
    return rows.map((row) => {
      const local = this.running.get(row.name);
      const rebuild = rebuilds.get(row.name);
      return {
        name: row.name,
        version: row.version,
        position: row.position,
        status: local?.status === 'standby' && row.status === 'running' ? 'running' : row.status,
        lagEvents: Number(row.lag_events),
        lagSeconds: row.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0,
        updatedAt: row.updated_at ? row.updated_at.toISOString() : null,
        ...(row.error ? { error: { message: row.error, position: row.error_position ?? '0' } } : {}),
        ...(rebuild?.rebuild ? { rebuild: rebuild.rebuild } : {}),
        ...(rebuild?.lastRebuild ? { lastRebuild: rebuild.lastRebuild } : {}),
      };
    });
  }

  /** The lowest checkpoint among the named projections (all when none are named). */
  async lowestPosition(names?: readonly string[]): Promise<Position> {
    const wanted = names ?? this.options.projections.map((p) => p.name);
    const [row]: Array<{ position: string | null }> = await this.options.dataSource.query(
      'SELECT min(position) AS position FROM cx_projection_checkpoints WHERE name = ANY($1)',
      [wanted],
    );
    return BigInt(row.position ?? 0);
  }

  private known(name: string): Projection {
    const projection = this.options.projections.find((p) => p.name === name);
    if (!projection) throw new UnknownProjectionError(name, this.options.projections.map((p) => p.name));
    return projection;
  }

  /**
   * Requests a blue/green rebuild of the named projections (one pass over the log for all of
   * them), for whichever process holds their leases; this one starts it at once if it does.
   * UnknownProjectionError, or RebuildConflictError when one of them has a rebuild already.
   */
  async requestRebuild(names: readonly string[]): Promise<RebuildRow[]> {
    if (names.length === 0) throw new UnknownProjectionError('', this.options.projections.map((p) => p.name));
    const projections = [...new Set(names)].map((name) => this.known(name));
    const rows = await this.requests.request(projections.map((p) => ({ name: p.name, version: p.version })));
    await this.poll();
    return rows;
  }

  /**
   * Asks the process that runs a failed projection to start it again from its checkpoint (after
   * its code or data was fixed); this process does at once if it is that process. A projection
   * waiting for its version's rebuild gets the rebuild requested again.
   */
  async requestRetry(name: string): Promise<{ status: 'retrying' | 'rebuild-requested' }> {
    const projection = this.known(name);
    const [row]: Array<{ status: string; version: number }> = await this.options.dataSource.query(
      'SELECT status, version FROM cx_projection_checkpoints WHERE name = $1',
      [name],
    );
    if (row && row.version !== projection.version) {
      await this.requests.request([{ name, version: projection.version }]);
      await this.poll();
      return { status: 'rebuild-requested' };
    }
    const [updated] = returnedRows<{ name: string }>(
      await this.options.dataSource.query(`UPDATE cx_projection_checkpoints SET status = 'starting', updated_at = now() WHERE name = $1 AND status = 'failed' RETURNING name`, [
        name,
      ]),
    );
    if (!updated) throw new NotFailedError(name, row?.status ?? 'not started yet');
    await this.poll();
    return { status: 'retrying' };
  }

  /** Starts a failed projection again from its checkpoint, in this process. */
  async retry(name: string): Promise<void> {
    this.known(name);
    const run = this.running.get(name);
    if (!run) throw new UnknownProjectionError(name, [...this.running.keys()]);
    const subscription = run.subscription;
    run.subscription = undefined;
    await subscription?.stop();
    clearTimeout(run.retry);
    await this.run(run);
  }

  /** Picks up what other processes (or this one) asked for: rebuilds to run, failed projections to retry. */
  private poll(): Promise<void> {
    if (!this.started || this.stopped) return Promise.resolve();
    // One poll at a time; a poll asked for meanwhile runs right after.
    const previous = this.polling ?? Promise.resolve();
    const next = previous
      .then(() => this.pollOnce())
      .catch((error: unknown) => this.logger.warn(`projection runner: ${(error as Error).message}`));
    this.polling = next;
    return next;
  }

  private async pollOnce(): Promise<void> {
    if (this.stopped) return;
    const mine = [...this.running.values()].filter((r) => r.leased && !r.rebuilding && !r.paused);
    if (mine.length === 0) return;
    const failed = mine.filter((r) => r.status === 'failed');
    if (failed.length > 0) {
      const rows: Array<{ name: string; status: string }> = await this.options.dataSource.query(
        'SELECT name, status FROM cx_projection_checkpoints WHERE name = ANY($1::text[])',
        [failed.map((r) => r.projection.name)],
      );
      for (const run of failed) {
        if (rows.find((r) => r.name === run.projection.name)?.status === 'starting') await this.retry(run.projection.name);
      }
    }
    const claimed = await this.requests.claim(
      mine.map((r) => r.projection.name),
      this.owner,
    );
    if (claimed.length > 0) this.startRebuild(claimed);
  }

  private startRebuild(rows: readonly RebuildRow[]): void {
    const runs = rows.map((row) => this.running.get(row.projection)!);
    for (const run of runs) run.rebuilding = true;
    const epoch = this.leaseEpoch;
    const rebuild = new ProjectionRebuild(
      {
        store: this.options.store,
        dataSource: this.options.dataSource,
        requests: this.requests,
        logger: this.logger,
        pause: (names) => this.pause(names),
        resume: (names, switched) => this.resume(names, switched),
        mayContinue: (names) => !this.stopped && this.leaseEpoch === epoch && names.every((n) => this.running.get(n)?.leased),
      },
      runs.map((r) => r.projection),
      rows,
      this.rebuildOptions,
    );
    const done = rebuild
      .run()
      .finally(() => {
        for (const run of runs) run.rebuilding = false;
        this.rebuilds.delete(done);
      })
      .catch(() => undefined);
    this.rebuilds.add(done);
  }

  /** Stops applying the projections live for a switch; their checkpoints stay put until resume. */
  private async pause(names: readonly string[]): Promise<FrozenCheckpoints> {
    for (const name of names) {
      const run = this.running.get(name)!;
      run.paused = true;
      clearTimeout(run.retry);
      const subscription = run.subscription;
      run.subscription = undefined;
      this.wakeHeld();
      await subscription?.stop();
    }
    const rows: Array<{ name: string; position: string; generation: number }> = await this.options.dataSource.query(
      'SELECT name, position::text AS position, generation FROM cx_projection_checkpoints WHERE name = ANY($1::text[])',
      [names],
    );
    return new Map(rows.map((r) => [r.name, { position: BigInt(r.position), generation: r.generation }]));
  }

  /** After a switch every projection follows the log from its new checkpoint; after a failed one, those that were running go on. */
  private async resume(names: readonly string[], switched: boolean): Promise<void> {
    for (const name of names) {
      const run = this.running.get(name)!;
      run.paused = false;
      // A failed projection is not retried, nor a rebuild requested again, just because a switch did not happen.
      if (switched || !['failed', 'rebuilding'].includes(run.status)) await this.run(run);
    }
  }

  /** Marks rebuilds of these projections that no process runs anymore as failed, and drops what they built. */
  private async abandonRebuilds(names: readonly string[]): Promise<void> {
    const abandoned = await this.requests.abandon(names, 'interrupted: the process running it stopped or lost the projection lease', this.owner);
    const local = new Set([...this.running.values()].filter((r) => r.rebuilding).map((r) => r.projection.name));
    const schemas = [...new Set(abandoned.map((r) => r.projection))].filter((n) => !local.has(n)).map(rebuildSchemaOf);
    await dropSchemas(this.options.dataSource, schemas).catch(() => undefined);
    for (const row of abandoned) this.logger.warn(`rebuild ${row.id} of ${row.projection} was interrupted (it ran in ${row.owner}); request it again`);
  }

  private async releaseLease(run: Running): Promise<void> {
    run.leased = !this.options.lease;
    const client = this.leaseClient;
    if (!client) return;
    const released = this.leaseQueries.then(() => client.query('SELECT pg_advisory_unlock($1, $2)', [LEASE_SPACE, streamLockKey(run.projection.name)]));
    this.leaseQueries = released.catch(() => undefined);
    await released.catch(() => undefined);
  }

  private leaseLost(error: Error): void {
    // The connection that held the leases is gone, so are the leases: stop applying, start over.
    this.logger.error(`projection leases lost (${error.message}); stopping and starting again`);
    this.leaseEpoch++;
    const client = this.leaseClient;
    this.leaseClient = undefined;
    client?.release(true);
    void (async () => {
      for (const run of this.running.values()) {
        run.leased = false;
        const subscription = run.subscription;
        run.subscription = undefined;
        await subscription?.stop();
        run.status = 'standby';
      }
      if (this.stopped) return;
      this.leaseClient = await this.options.pool.connect();
      this.leaseClient.on('error', (e) => this.leaseLost(e));
      for (const run of this.running.values()) void this.run(run);
    })().catch((e: unknown) => this.logger.error(`projection runner could not restart: ${(e as Error).message}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeHeld();
    clearInterval(this.pollTimer);
    await this.polling;
    // Rebuilds see `stopped` at their next batch, record their end and drop what they built.
    await Promise.all(this.rebuilds);
    for (const run of this.running.values()) {
      clearTimeout(run.retry);
      const subscription = run.subscription;
      run.subscription = undefined;
      await subscription?.stop();
      if (run.status !== 'failed') run.status = 'stopped';
    }
    await this.options.dataSource
      .query(`UPDATE cx_projection_checkpoints SET status = 'stopped', updated_at = now() WHERE name = ANY($1) AND status = 'running'`, [
        [...this.running.values()].filter((r) => r.leased && r.status === 'stopped').map((r) => r.projection.name),
      ])
      .catch(() => undefined);
    if (this.leaseClient) {
      this.leaseClient.removeAllListeners('error');
      this.leaseClient.release(true);
      this.leaseClient = undefined;
    }
  }
}
