import type { Pool, PoolClient } from 'pg';
import { assertLimit, assertPosition } from '../append-validation.js';
import { InvalidReadError, type Position, type RecordedEvent, type RecordedMetadata } from '../event-store.js';

/**
 * A customer's events straight from the PostgreSQL log, in log order, across all their streams
 * (profile, moments, answers, complaints, alerts): every event that names a customer carries
 * `data.customerId`, and index `cx_events_customer_position_idx` (migration
 * 0002_event_store_customer_index) is on exactly that and the position. The journey replay folds
 * them; nothing here depends on a read model.
 *
 * Committed events only, like `readStream`: unlike `readAll` it does not stop short of
 * transactions still writing elsewhere, so a client reads its own append as soon as it returned.
 */
export type CustomerTimelineOptions = {
  /** Events after this position (exclusive). Default 0n: from the start. */
  after?: Position;
  /** Only events at or before this position. */
  upTo?: Position;
  /** Only events recorded (`recorded_at`) at or before this instant. */
  recordedUpTo?: Date;
  /** At most this many events (default 1,000; at most 10,000). */
  limit?: number;
  /**
   * `all` (default): the stored metadata. `ids`: only `correlationId` and `causationId`, for
   * readers that fold: the metadata (the CloudEvent's attributes…) is often larger than the data.
   */
  metadata?: 'all' | 'ids';
};

export const CUSTOMER_TIMELINE_MAX_LIMIT = 10_000;

type Queryable = Pick<Pool, 'query'>;

type Row = {
  position: string;
  event_id: string;
  stream_id: string;
  stream_version: string;
  type: string;
  data: unknown;
  metadata?: RecordedMetadata;
  correlation_id?: string | null;
  causation_id?: string | null;
  /** recorded_at in whole milliseconds: a number is turned into a Date far faster than timestamptz text is parsed. */
  recorded_ms: number;
};

function assertCustomerId(customerId: unknown): asserts customerId is string {
  if (typeof customerId !== 'string' || customerId.length === 0 || customerId.length > 200) {
    throw new InvalidReadError(`a customer id must be a non-empty string of at most 200 characters, got ${JSON.stringify(customerId)}`);
  }
}

/** One page of the customer's events after `after`, in log order, within the cut (`upTo`, `recordedUpTo`). */
export async function readCustomerTimeline(pool: Queryable, customerId: string, options: CustomerTimelineOptions = {}): Promise<RecordedEvent[]> {
  assertCustomerId(customerId);
  const after = options.after ?? 0n;
  assertPosition(after);
  if (options.upTo !== undefined) assertPosition(options.upTo);
  assertLimit(options.limit);
  const limit = options.limit ?? 1000;
  if (limit > CUSTOMER_TIMELINE_MAX_LIMIT) throw new InvalidReadError(`limit must be at most ${CUSTOMER_TIMELINE_MAX_LIMIT}, got ${limit}`);
  if (options.recordedUpTo !== undefined && Number.isNaN(options.recordedUpTo.getTime())) throw new InvalidReadError('recordedUpTo must be a valid date');

  const metadata =
    options.metadata === 'ids' ? `metadata->>'correlationId' AS correlation_id, metadata->>'causationId' AS causation_id` : 'metadata';
  const { rows } = await pool.query<Row>(
    `SELECT position, event_id, stream_id, stream_version, type, data, ${metadata},
            floor(extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_ms
       FROM cx_events
      WHERE (data->>'customerId') = $1
        AND position > $2
        AND ($3::bigint IS NULL OR position <= $3)
        AND ($4::timestamptz IS NULL OR recorded_at <= $4)
      ORDER BY (data->>'customerId'), position
      LIMIT $5`,
    [customerId, after.toString(), options.upTo?.toString() ?? null, options.recordedUpTo?.toISOString() ?? null, limit],
  );
  return rows.map((row) => ({
    id: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata ?? ({ correlationId: row.correlation_id, causationId: row.causation_id } as RecordedMetadata),
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    position: BigInt(row.position),
    recordedAt: new Date(row.recorded_ms),
  }));
}

/**
 * Runs `read` on one connection in a read-only snapshot, so several timeline reads (pages, the
 * existence check) see the same log. The plan goes to the customer index on the platform's
 * connections, which plan with random_page_cost = 1.1 (libs/platform/src/database.ts): at the
 * server's default 4, for a customer with a large share of the log the planner walks the log's
 * primary key instead and filters every event on the way (several times slower when the log is
 * cached, as it usually is).
 */
export async function inCustomerSnapshot<T>(pool: Pick<Pool, 'connect'>, read: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await read(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Whether any event in the log names this customer. */
export async function customerInLog(pool: Queryable, customerId: string): Promise<boolean> {
  assertCustomerId(customerId);
  const { rows } = await pool.query<{ known: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM cx_events WHERE (data->>'customerId') = $1) AS known`,
    [customerId],
  );
  return rows[0].known;
}

/** When the log reached `position`: the `recorded_at` of the last event at or before it (undefined on an empty log). */
export async function logReachedAt(pool: Queryable, position: Position): Promise<Date | undefined> {
  assertPosition(position);
  const { rows } = await pool.query<{ recorded_at: Date }>(
    'SELECT recorded_at FROM cx_events WHERE position <= $1 ORDER BY position DESC LIMIT 1',
    [position.toString()],
  );
  return rows[0]?.recorded_at;
}
