import type { Migration } from '../migrations.js';

/**
 * The event log. `position` comes from an identity sequence; `transaction_id` is the
 * writing transaction's id, taken while the append lock is held (see postgres-event-store.ts),
 * so that readers can stop short of any transaction still in flight.
 */
export const eventStoreMigrations: Migration[] = [
  {
    id: '0001_event_store_log',
    sql: `
      CREATE TABLE cx_events (
        position        bigint GENERATED ALWAYS AS IDENTITY,
        event_id        uuid        NOT NULL,
        stream_id       text        NOT NULL,
        stream_version  bigint      NOT NULL,
        type            text        NOT NULL,
        data            jsonb       NOT NULL,
        metadata        jsonb       NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT cx_events_pkey PRIMARY KEY (position),
        CONSTRAINT cx_events_event_id_key UNIQUE (event_id),
        CONSTRAINT cx_events_stream_version_key UNIQUE (stream_id, stream_version),
        CONSTRAINT cx_events_stream_version_check CHECK (stream_version >= 0)
      );
      CREATE INDEX cx_events_type_position_idx ON cx_events (type, position);
      COMMENT ON TABLE cx_events IS 'The event log: the source of truth. Append-only.';
      COMMENT ON COLUMN cx_events.transaction_id IS
        'Writing transaction, assigned under the append lock: readers only read below pg_snapshot_xmin.';
    `,
  },
  {
    // A customer's timeline (the journey replay) read straight from the log: every event that
    // names a customer carries data.customerId. Built in the migration's transaction: on a large
    // existing log, appends wait while it builds.
    id: '0002_event_store_customer_index',
    sql: `
      CREATE INDEX cx_events_customer_position_idx ON cx_events ((data->>'customerId'), position);
      COMMENT ON INDEX cx_events_customer_position_idx IS
        'A customer''s events in log order (customer-timeline.ts): every event that names a customer has data.customerId.';
    `,
  },
];
