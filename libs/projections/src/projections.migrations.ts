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
  {
    id: '0310_projection_rebuilds',
    sql: `
      ALTER TABLE cx_projection_checkpoints ADD COLUMN generation integer NOT NULL DEFAULT 0;
      COMMENT ON COLUMN cx_projection_checkpoints.generation IS
        'Moves when a rebuild switches the read model to new tables: a process still applying to the old ones is fenced off by the compare-and-set.';

      CREATE TABLE cx_projection_rebuilds (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        projection       text        NOT NULL,
        version          integer     NOT NULL,
        status           text        NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'running', 'done', 'failed')),
        phase            text        NOT NULL DEFAULT 'waiting',
        requested_at     timestamptz NOT NULL DEFAULT now(),
        started_at       timestamptz,
        finished_at      timestamptz,
        target_position  bigint,
        position         bigint      NOT NULL DEFAULT 0,
        events_per_second double precision,
        eta_seconds      double precision,
        owner            text,
        error            text
      );
      CREATE UNIQUE INDEX cx_projection_rebuilds_active ON cx_projection_rebuilds (projection) WHERE status IN ('requested', 'running');
      CREATE INDEX cx_projection_rebuilds_latest ON cx_projection_rebuilds (projection, id DESC);
      COMMENT ON TABLE cx_projection_rebuilds IS
        'Blue/green rebuilds of read models: requested by any process, run by the one holding the projection''s lease, with progress and outcome.';
    `,
  },
];
