import type { Migration } from '@cx/event-store';

export const projectionMigrations: Migration[] = [
  {
    id: '0300_projection_checkpoints',
    sql: `
      CREATE TABLE cx_projection_checkpoints (
        name            text PRIMARY KEY,
        version         integer     NOT NULL,
        position        bigint      NOT NULL DEFAULT 0,
        status          text        NOT NULL DEFAULT 'starting',
        error           text,
        error_position  bigint,
        updated_at      timestamptz NOT NULL DEFAULT now()
      );
      COMMENT ON TABLE cx_projection_checkpoints IS
        'Per read model: the log position folded so far, moved in the same transaction as its rows.';
    `,
  },
];
