import { businessTimeField, businessTimeOf } from '@cx/domain';
import type { RecordedEvent } from '@cx/event-store';
import type { EntityManager } from 'typeorm';
import type { Projection } from '../../projection.js';
import { BULK_CHUNK_ROWS, PendingRows, rowsInsert, rowWriter, type RowTable } from '../../rebuild-rows.js';
import { JourneyEntry } from './journey.entity.js';

/** The types the journey shows: every stored type, since each names its customer. */
export const JOURNEY_TYPES: readonly string[] = Object.keys(businessTimeField);

/** The event's business time as ISO 8601 UTC; the time it was recorded when its data has none that parses. */
export function businessTime(event: Pick<RecordedEvent, 'type' | 'data' | 'recordedAt'>): string {
  return new Date(businessTimeOf(event.type, event.data) ?? event.recordedAt.getTime()).toISOString();
}

function journeyRows(events: readonly RecordedEvent[]) {
  const rows = [];
  for (const event of events) {
    const customerId = (event.data as { customerId?: unknown } | null)?.customerId;
    if (typeof customerId !== 'string' || customerId === '') continue;
    rows.push({ customer_id: customerId, position: event.position.toString(), type: event.type, occurred_at: businessTime(event) });
  }
  return rows;
}

const JOURNEY_ROWS: RowTable = {
  table: 'rm_journey',
  columns: [
    ['customer_id', 'text'],
    ['position', 'bigint'],
    ['type', 'text'],
    ['occurred_at', 'timestamptz'],
  ],
};

// Positions are unique in the log, so a conflict can only be the same event again: keep the first.
const INSERT_ROWS = rowsInsert(JOURNEY_ROWS, { key: ['customer_id', 'position'], conflict: 'nothing' });

export const journeyProjection: Projection = {
  name: 'journey',
  version: 2, // 2: retention alerts on the timeline
  handles: JOURNEY_TYPES,
  tables: ['rm_journey'],
  migrations: [
    {
      id: '0440_journey',
      sql: `
        CREATE TABLE rm_journey (
          customer_id  text        NOT NULL,
          position     bigint      NOT NULL,
          type         text        NOT NULL,
          occurred_at  timestamptz NOT NULL,
          PRIMARY KEY (customer_id, position)
        );
        CREATE INDEX rm_journey_customer_time ON rm_journey (customer_id, occurred_at);
        COMMENT ON TABLE rm_journey IS
          'Journey read model: every event of a customer (its customer stream and its complaints), by log position. The event itself is cx_events at that position.';
      `,
    },
    {
      // Every API read is by (customer_id, position): the primary key. This index served no query
      // of the platform, and its upkeep was a third of the journey's cost on the live path (a
      // random leaf per event, a full-page image of it after each checkpoint).
      id: '0441_journey_drop_customer_time',
      sql: `DROP INDEX IF EXISTS rm_journey_customer_time;`,
    },
  ],
  entities: [JourneyEntry],

  async apply(events: readonly RecordedEvent[], manager: EntityManager): Promise<void> {
    const rows = journeyRows(events);
    if (rows.length > 0) await manager.query(INSERT_ROWS.sql, INSERT_ROWS.params(rows));
  },

  /**
   * A rebuild reads each position once: every row is final as it comes, serialised a batch at a
   * time and written BULK_CHUNK_ROWS at a time (a few large statements, not one per batch).
   */
  bulk(format) {
    const pending = new PendingRows(rowWriter(JOURNEY_ROWS, format));
    return {
      get held() {
        return pending.size;
      },
      add(events) {
        pending.add(journeyRows(events));
        return pending.size >= BULK_CHUNK_ROWS ? pending.take() : undefined;
      },
      *finish() {
        const rest = pending.take();
        if (rest) yield rest;
      },
    };
  },
};
