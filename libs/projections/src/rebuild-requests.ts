import type { DataSource, EntityManager } from 'typeorm';
import type { RebuildOutcome, RebuildPhase, RebuildProgress } from './projection.js';

/** A rebuild of the projection is already requested or running: one at a time. */
export class RebuildConflictError extends Error {
  constructor(
    readonly projection: string,
    readonly running: { id: string; status: string; requestedAt: string; startedAt: string | null },
  ) {
    super(
      `a rebuild of ${projection} is already ${running.status === 'running' ? `running (rebuild ${running.id}, started ${running.startedAt})` : `requested (rebuild ${running.id}, at ${running.requestedAt})`}`,
    );
    this.name = 'RebuildConflictError';
  }
}

export type RebuildRow = {
  id: string;
  projection: string;
  version: number;
  status: 'requested' | 'running' | 'done' | 'failed';
  phase: RebuildPhase;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  targetPosition: string | null;
  position: string;
  eventsPerSecond: number | null;
  etaSeconds: number | null;
  owner: string | null;
  error: string | null;
};

const COLUMNS = `id::text AS id, projection, version, status, phase, requested_at AS "requestedAt", started_at AS "startedAt",
  finished_at AS "finishedAt", target_position::text AS "targetPosition", position::text AS position,
  events_per_second AS "eventsPerSecond", eta_seconds AS "etaSeconds", owner, error`;

type Queryable = Pick<DataSource | EntityManager, 'query'>;

/** TypeORM answers an UPDATE on PostgreSQL with [rows, rowCount], other statements with rows. */
function returnedRows<T>(result: unknown): T[] {
  return (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? result[0] : result) as T[];
}

const iso = (date: Date | null) => (date === null ? null : new Date(date).toISOString());

/**
 * The rebuilds table (`cx_projection_rebuilds`): any process may request a rebuild; the process
 * that holds the projection's lease claims it, runs it and writes its progress and outcome here,
 * so every process's `GET /v1/projections` shows them.
 */
export class RebuildRequests {
  constructor(private readonly db: Queryable) {}

  /** Requests rebuilds of the projections, all or none; a projection with one requested or running is a RebuildConflictError. */
  async request(projections: ReadonlyArray<{ name: string; version: number }>, db: Queryable = this.db): Promise<RebuildRow[]> {
    const active = await this.active(projections.map((p) => p.name), db);
    if (active.length > 0) {
      const first = active[0];
      throw new RebuildConflictError(first.projection, { id: first.id, status: first.status, requestedAt: iso(first.requestedAt)!, startedAt: iso(first.startedAt) });
    }
    try {
      return (await db.query(
        `INSERT INTO cx_projection_rebuilds (projection, version)
         SELECT * FROM unnest($1::text[], $2::integer[])
         RETURNING ${COLUMNS}`,
        [projections.map((p) => p.name), projections.map((p) => p.version)],
      )) as RebuildRow[];
    } catch (error) {
      // Another request got in between: the unique index on active rebuilds answers.
      if ((error as { code?: string }).code === '23505') {
        const [first] = await this.active(projections.map((p) => p.name), db);
        if (first) throw new RebuildConflictError(first.projection, { id: first.id, status: first.status, requestedAt: iso(first.requestedAt)!, startedAt: iso(first.startedAt) });
      }
      throw error;
    }
  }

  async active(names: readonly string[], db: Queryable = this.db): Promise<RebuildRow[]> {
    return (await db.query(`SELECT ${COLUMNS} FROM cx_projection_rebuilds WHERE projection = ANY($1::text[]) AND status IN ('requested', 'running') ORDER BY id`, [
      names,
    ])) as RebuildRow[];
  }

  /** Takes the requested rebuilds of these projections for this process. */
  async claim(names: readonly string[], owner: string): Promise<RebuildRow[]> {
    if (names.length === 0) return [];
    return returnedRows<RebuildRow>(
      await this.db.query(
        `UPDATE cx_projection_rebuilds SET status = 'running', phase = 'building', owner = $2, started_at = now()
          WHERE status = 'requested' AND projection = ANY($1::text[])
          RETURNING ${COLUMNS}`,
        [names, owner],
      ),
    );
  }

  async progress(
    ids: readonly string[],
    progress: { phase: RebuildPhase; targetPosition: bigint | null; position: bigint; eventsPerSecond: number | null; etaSeconds: number | null },
  ): Promise<void> {
    await this.db.query(
      `UPDATE cx_projection_rebuilds SET phase = $2, target_position = $3, position = $4, events_per_second = $5, eta_seconds = $6
        WHERE id = ANY($1::bigint[]) AND status = 'running'`,
      [ids, progress.phase, progress.targetPosition?.toString() ?? null, progress.position.toString(), progress.eventsPerSecond, progress.etaSeconds],
    );
  }

  /** Records how the rebuilds ended; returns how many were still requested or running (not abandoned meanwhile). */
  async finish(
    ids: readonly string[],
    outcome: { status: 'done' | 'failed'; position: bigint; eventsPerSecond: number | null; error?: string },
    db: Queryable = this.db,
  ): Promise<number> {
    const updated = returnedRows<{ id: string }>(
      await db.query(
      `UPDATE cx_projection_rebuilds
          SET status = $2, position = $3, events_per_second = $4, error = $5, eta_seconds = NULL, finished_at = now()
        WHERE id = ANY($1::bigint[]) AND status IN ('requested', 'running')
        RETURNING id::text AS id`,
        [ids, outcome.status, outcome.position.toString(), outcome.eventsPerSecond, outcome.error?.slice(0, 2000) ?? null],
      ),
    );
    return updated.length;
  }

  /**
   * Rebuilds of these projections marked running by a process that no longer holds their lease
   * (it stopped, crashed or lost it): they will never finish. Marks them failed; returns them.
   */
  async abandon(names: readonly string[], reason: string, exceptOwner?: string): Promise<RebuildRow[]> {
    if (names.length === 0) return [];
    return returnedRows<RebuildRow>(
      await this.db.query(
        `UPDATE cx_projection_rebuilds SET status = 'failed', error = $2, finished_at = now(), eta_seconds = NULL
          WHERE status = 'running' AND projection = ANY($1::text[]) AND owner IS DISTINCT FROM $3
          RETURNING ${COLUMNS}`,
        [names, reason, exceptOwner ?? null],
      ),
    );
  }

  /** Per projection: the rebuild requested or running, and the latest one that ended. */
  async views(names: readonly string[]): Promise<Map<string, { rebuild?: RebuildProgress; lastRebuild?: RebuildOutcome }>> {
    const rows = (await this.db.query(
      `SELECT ${COLUMNS} FROM cx_projection_rebuilds WHERE projection = ANY($1::text[]) AND status IN ('requested', 'running')
       UNION ALL
       SELECT ${COLUMNS} FROM (
         SELECT DISTINCT ON (projection) * FROM cx_projection_rebuilds
          WHERE projection = ANY($1::text[]) AND status IN ('done', 'failed')
          ORDER BY projection, id DESC) AS last`,
      [names],
    )) as RebuildRow[];
    const views = new Map<string, { rebuild?: RebuildProgress; lastRebuild?: RebuildOutcome }>();
    for (const row of rows) {
      const view = views.get(row.projection) ?? {};
      if (row.status === 'requested' || row.status === 'running') view.rebuild = progressOf(row);
      else view.lastRebuild = outcomeOf(row);
      views.set(row.projection, view);
    }
    return views;
  }
}

export function progressOf(row: RebuildRow): RebuildProgress {
  return {
    id: row.id,
    status: row.status as RebuildProgress['status'],
    phase: row.phase,
    version: row.version,
    targetPosition: row.targetPosition,
    position: row.position,
    eventsPerSecond: row.eventsPerSecond === null ? null : Math.round(row.eventsPerSecond),
    etaSeconds: row.etaSeconds === null ? null : Math.round(row.etaSeconds),
    requestedAt: iso(row.requestedAt)!,
    startedAt: iso(row.startedAt),
  };
}

export function outcomeOf(row: RebuildRow): RebuildOutcome {
  const seconds = row.startedAt && row.finishedAt ? (new Date(row.finishedAt).getTime() - new Date(row.startedAt).getTime()) / 1000 : null;
  return {
    id: row.id,
    status: row.status as RebuildOutcome['status'],
    version: row.version,
    position: row.position,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt)!,
    seconds,
    eventsPerSecond: row.eventsPerSecond === null ? null : Math.round(row.eventsPerSecond),
    ...(row.error ? { error: row.error } : {}),
  };
}
