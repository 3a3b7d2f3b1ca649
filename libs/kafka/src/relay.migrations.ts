import type { Migration } from '@cx/event-store';

export const relayMigrations: Migration[] = [
  {
    id: '0500_relay_checkpoints',
    sql: `
      CREATE TABLE cx_relay_checkpoints (
        name        text        NOT NULL,
        topic       text        NOT NULL,
        position    bigint      NOT NULL DEFAULT 0,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, topic)
      );
      COMMENT ON TABLE cx_relay_checkpoints IS
        'Per relay and Kafka topic: the log position the broker has acknowledged (moved only after the ack).';
    `,
  },
];
