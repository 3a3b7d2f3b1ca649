import type { Migration } from '@cx/event-store';

/** Tables of the platform's Kafka consumers (the relay's are in relay.migrations.ts). */
export const kafkaConsumerMigrations: Migration[] = [
  {
    id: '0510_kafka_consumer_offsets',
    sql: `
      CREATE TABLE cx_kafka_consumer_offsets (
        group_id        text        NOT NULL,
        topic           text        NOT NULL,
        partition       integer     NOT NULL,
        next_offset     bigint      NOT NULL DEFAULT 0,
        max_position    bigint      NOT NULL DEFAULT 0,
        events_applied  bigint      NOT NULL DEFAULT 0,
        versions        text        NOT NULL DEFAULT '',
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic, partition)
      );
      COMMENT ON TABLE cx_kafka_consumer_offsets IS
        'Per consumer group and partition of cx.events: the next offset to fold and the highest log position folded, moved in the same transaction as the read models (the source of truth for the offsets; Kafka''s committed offsets only follow). versions: the projections (name:version) folded.';
    `,
  },
];
