import { type DomainEventType, eventTypes } from '@cx/domain';
import type { PiiVault } from '@cx/platform';
import type { Pool } from 'pg';
import { encodeCursor, type JourneyQuery } from './journey.query.js';

/** Personal fields of each stored type, sealed in the log; opened for the journey. */
export const personalFields: Partial<Record<DomainEventType, readonly string[]>> = {
  'customer.registered.v1': ['name', 'email', 'phone'],
  'customer.updated.v1': ['name', 'email', 'phone'],
  'feedback.submitted.v1': ['comment'],
  'complaint.filed.v1': ['description'],
};

export type JourneyEvent = {
  position: string;
  /** The public CloudEvents type (`cx.moment.recorded`); the stored type when it has none. */
  type: string;
  storedType: string;
  /** Business time (`occurredAt`, `filedAt`, ...), ISO 8601 UTC. */
  time: string;
  recordedAt: string;
  streamId: string;
  streamVersion: number;
  data: Record<string, unknown>;
  /** Personal fields that are null in `data` because the customer's data was erased. */
  erased: string[];
  correlationId: string | null;
};

/** The public CloudEvents type of a stored type (`cx.moment.recorded`); the stored type when it has none. */
export function publicType(storedType: string): string {
  return (eventTypes as Record<string, { cloudEventType: string } | undefined>)[storedType]?.cloudEventType ?? storedType;
}

export type JourneyPage = { customerId: string; events: JourneyEvent[]; nextCursor: string | null };

type Row = {
  position: string;
  type: string;
  occurred_at: Date;
  recorded_at: Date;
  stream_id: string;
  stream_version: string;
  data: Record<string, unknown>;
  correlation_id: string | null;
};

/** Reads a customer's journey: positions from `rm_journey`, the events themselves from the log. */
export class JourneyReader {
  constructor(
    private readonly pool: Pool,
    private readonly vault: Pick<PiiVault, 'unsealFields'>,
  ) {}

  /** One page in log order; undefined when the customer has no event at all. */
  async page(customerId: string, query: JourneyQuery): Promise<JourneyPage | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT j.position, j.type, j.occurred_at, e.recorded_at, e.stream_id, e.stream_version, e.data,
              e.metadata->>'correlationId' AS correlation_id
         FROM rm_journey j
         JOIN cx_events e ON e.position = j.position
        WHERE j.customer_id = $1
          AND j.position > $2
          AND ($3::timestamptz IS NULL OR j.occurred_at >= $3)
          AND ($4::timestamptz IS NULL OR j.occurred_at < $4)
        ORDER BY j.position
        LIMIT $5`,
      [customerId, query.after.toString(), query.from?.toISOString() ?? null, query.to?.toISOString() ?? null, query.limit + 1],
    );
    if (rows.length === 0 && !(await this.known(customerId))) return undefined;

    const page = rows.slice(0, query.limit);
    const opened = await this.vault.unsealFields(
      page.map((row) => ({
        customerId: typeof row.data.customerId === 'string' ? row.data.customerId : customerId,
        data: row.data,
        fields: personalFields[row.type as DomainEventType] ?? [],
      })),
    );
    const events = page.map((row, i): JourneyEvent => ({
      position: row.position,
      type: publicType(row.type),
      storedType: row.type,
      time: row.occurred_at.toISOString(),
      recordedAt: row.recorded_at.toISOString(),
      streamId: row.stream_id,
      streamVersion: Number(row.stream_version),
      data: opened[i].data,
      erased: opened[i].erased,
      correlationId: row.correlation_id,
    }));
    const nextCursor = rows.length > query.limit ? encodeCursor(page[page.length - 1].position) : null;
    return { customerId, events, nextCursor };
  }

  private async known(customerId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ known: boolean }>('SELECT EXISTS (SELECT 1 FROM rm_journey WHERE customer_id = $1) AS known', [customerId]);
    return rows[0].known;
  }
}
