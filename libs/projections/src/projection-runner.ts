import type { EventStore, Position, RecordedEvent, Subscription } from '@cx/event-store';
import { streamLockKey } from '@cx/event-store';
import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { Projection, ProjectionState, ProjectionStatus } from './projection.js';

/** TypeORM answers an UPDATE on PostgreSQL with [rows, rowCount], other statements with rows. */
function returnedRows<T>(result: unknown): T[] {
  return (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? result[0] : result) as T[];
}

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
  leaseRetryMs?: number;
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
  constructor(readonly projection: string, known: readonly string[]) {
    super(`unknown projection ${JSON.stringify(projection)}; known: ${known.join(', ')}`);
    this.name = 'UnknownProjectionError';
  }
}

type Running = {
  projection: Projection;
  handles: ReadonlySet<string>;
  position: Position;
  status: ProjectionStatus;
  subscription?: Subscription;
  retry?: NodeJS.Timeout;
};

/**
 * Folds the log into every read model. Each projection follows the global log from its
 * checkpoint; each batch is applied and the checkpoint moved in one transaction, with a
 * compare-and-set on the checkpoint so that a process whose lease was lost cannot apply a
 * batch twice. A batch that fails is retried one event at a time, so the projection stops at
 * exactly the event that fails, with its position and error recorded.
 */
export class ProjectionRunner {
  private readonly running = new Map<string, Running>();
  private leaseClient?: PoolClient;
  private stopped = false;
  private readonly batchSize: number;
  private readonly logger: RunnerLogger;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.logger = options.logger ?? { log: () => undefined, warn: () => undefined, error: () => undefined };
    const names = options.projections.map((p) => p.name);
    if (new Set(names).size !== names.length) throw new Error(`duplicate projection names: ${names.join(', ')}`);
  }

  get projections(): readonly Projection[] {
    return this.options.projections;
  }

  async start(): Promise<void> {
    for (const projection of this.options.projections) {
      await this.register(projection);
      this.running.set(projection.name, { projection, handles: new Set(projection.handles), position: 0n, status: 'starting' });
    }
    if (this.options.lease) {
      this.leaseClient = await this.options.pool.connect();
      this.leaseClient.on('error', (error) => this.leaseLost(error));
    }
    await Promise.all([...this.running.values()].map((run) => this.run(run)));
  }

  /** Makes sure the projection has a checkpoint; a new version starts over from the beginning of the log. */
  private async register(projection: Projection): Promise<void> {
    await this.options.dataSource.transaction(async (manager) => {
      const rows: Array<{ version: number }> = await manager.query(
        'SELECT version FROM cx_projection_checkpoints WHERE name = $1 FOR UPDATE',
        [projection.name],
      );
      if (rows.length === 0) {
        await manager.query('INSERT INTO cx_projection_checkpoints (name, version) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
          projection.name,
          projection.version,
        ]);
      } else if (rows[0].version !== projection.version) {
        this.logger.warn(`projection ${projection.name}: version ${rows[0].version} -> ${projection.version}, rebuilding from the start of the log`);
        if (projection.tables.length > 0) await manager.query(`TRUNCATE ${projection.tables.join(', ')}`);
        await manager.query(
          `UPDATE cx_projection_checkpoints SET version = $2, position = 0, status = 'starting', error = NULL, error_position = NULL, updated_at = now()
            WHERE name = $1`,
          [projection.name, projection.version],
        );
      }
    });
  }

  private async run(run: Running): Promise<void> {
    if (this.stopped) return;
    const name = run.projection.name;
    if (this.leaseClient) {
      const { rows } = await this.leaseClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LEASE_SPACE, streamLockKey(name)]);
      if (!rows[0].ok) {
        run.status = 'standby';
        run.retry = setTimeout(() => void this.run(run), this.options.leaseRetryMs ?? 2_000);
        return;
      }
    }
    const [row] = returnedRows<{ position: string }>(
      await this.options.dataSource.query(
        `UPDATE cx_projection_checkpoints SET status = 'running', error = NULL, error_position = NULL, updated_at = now()
          WHERE name = $1 RETURNING position`,
        [name],
      ),
    );
    run.position = BigInt(row.position);
    run.status = 'running';
    this.logger.log(`projection ${name} v${run.projection.version} running from position ${run.position}`);
    run.subscription = this.options.store.subscribeBatches(run.position, (events, handled) => this.applyBatch(run, events, handled), {
      limit: this.batchSize,
    });
    run.subscription.done.catch(async (error: unknown) => {
      if (this.stopped) return;
      run.status = 'failed';
      if (error instanceof CheckpointFencedError) {
        this.logger.warn(error.message);
        await this.releaseLease(name);
        run.retry = setTimeout(() => void this.run(run), this.options.leaseRetryMs ?? 2_000);
        return;
      }
      this.logger.error(`projection ${name} stopped: ${(error as Error).message}`);
    });
  }

  private async applyBatch(run: Running, events: readonly RecordedEvent[], handled: (position: Position) => void): Promise<void> {
    const relevant = events.filter((e) => run.handles.has(e.type));
    const last = events[events.length - 1].position;
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
          `UPDATE cx_projection_checkpoints SET status = 'failed', error = $2, error_position = $3, updated_at = now() WHERE name = $1`,
          [run.projection.name, `${event.type} in ${event.streamId}: ${message}`.slice(0, 2000), event.position.toString()],
        );
        throw error;
      }
    }
  }

  /** Applies events and moves the checkpoint from where this process left it, in one transaction. */
  private async commit(run: Running, events: readonly RecordedEvent[], to: Position): Promise<void> {
    await this.options.dataSource.transaction(async (manager) => {
      if (events.length > 0) await run.projection.apply(events, manager);
      const moved = returnedRows<{ name: string }>(
        await manager.query(
          `UPDATE cx_projection_checkpoints SET position = $3, updated_at = now() WHERE name = $1 AND position = $2 RETURNING name`,
          [run.projection.name, run.position.toString(), to.toString()],
        ),
      );
      if (moved.length === 0) throw new CheckpointFencedError(run.projection.name);
    });
    run.position = to;
  }

  /** Every projection's checkpoint, status and lag, as stored (so it covers other processes' projections too). */
  async states(): Promise<ProjectionState[]> {
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
      [this.options.projections.map((p) => p.name)],
    );
    return rows.map((row) => {
      const local = this.running.get(row.name);
      return {
        name: row.name,
        version: row.version,
        position: row.position,
        status: local?.status === 'standby' && row.status === 'running' ? 'running' : row.status,
        lagEvents: Number(row.lag_events),
        lagSeconds: row.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0,
        updatedAt: row.updated_at ? row.updated_at.toISOString() : null,
        ...(row.error ? { error: { message: row.error, position: row.error_position ?? '0' } } : {}),
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

  /** Starts a failed projection again from its checkpoint (after its code was fixed). */
  async retry(name: string): Promise<void> {
    const run = this.running.get(name);
    if (!run) throw new UnknownProjectionError(name, [...this.running.keys()]);
    await run.subscription?.stop();
    clearTimeout(run.retry);
    await this.run(run);
  }

  private async releaseLease(name: string): Promise<void> {
    await this.leaseClient?.query('SELECT pg_advisory_unlock($1, $2)', [LEASE_SPACE, streamLockKey(name)]).catch(() => undefined);
  }

  private leaseLost(error: Error): void {
    // The connection that held the leases is gone, so are the leases: stop applying, start over.
    this.logger.error(`projection leases lost (${error.message}); stopping and starting again`);
    const client = this.leaseClient;
    this.leaseClient = undefined;
    client?.release(true);
    void (async () => {
      for (const run of this.running.values()) {
        await run.subscription?.stop();
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
    for (const run of this.running.values()) {
      clearTimeout(run.retry);
      await run.subscription?.stop();
      run.status = 'stopped';
    }
    await this.options.dataSource
      .query(`UPDATE cx_projection_checkpoints SET status = 'stopped', updated_at = now() WHERE name = ANY($1) AND status = 'running'`, [
        [...this.running.values()].filter((r) => r.subscription).map((r) => r.projection.name),
      ])
      .catch(() => undefined);
    if (this.leaseClient) {
      this.leaseClient.removeAllListeners('error');
      this.leaseClient.release(true);
      this.leaseClient = undefined;
    }
  }
}
