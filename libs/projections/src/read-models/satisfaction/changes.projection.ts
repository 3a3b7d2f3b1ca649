import type { RecordedEvent } from '@cx/event-store';
import { Column, Entity, type EntityManager, PrimaryColumn } from 'typeorm';
import type { Projection } from '../../projection.js';
import { CHANGE_RECORDED, type ChangeRecorded } from './change.events.js';

/** A dated change whose effect on the customer experience analysts compare before and after. */
@Entity({ name: 'rm_changes' })
export class ChangeRow {
  @PrimaryColumn({ name: 'change_id', type: 'text' })
  changeId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'effective_at', type: 'timestamptz' })
  effectiveAt!: Date;

  @Column({ type: 'text', array: true, nullable: true })
  kinds!: string[] | null;

  @Column({ type: 'text', array: true, nullable: true })
  channels!: string[] | null;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;

  @Column({ type: 'bigint' })
  position!: string;
}

export const changesProjection: Projection = {
  name: 'changes',
  version: 1,
  handles: [CHANGE_RECORDED],
  tables: ['rm_changes'],
  migrations: [
    {
      id: '0430_changes',
      sql: `
        CREATE TABLE rm_changes (
          change_id     text PRIMARY KEY,
          name          text        NOT NULL,
          effective_at  timestamptz NOT NULL,
          kinds         text[],
          channels      text[],
          description   text,
          recorded_at   timestamptz NOT NULL,
          position      bigint      NOT NULL
        );
        CREATE INDEX rm_changes_effective_at ON rm_changes (effective_at);
        COMMENT ON TABLE rm_changes IS
          'Changes read model: dated process or tool changes (change.recorded.v1); kinds/channels NULL = all.';
      `,
    },
  ],
  entities: [ChangeRow],

  async apply(events: readonly RecordedEvent[], manager: EntityManager): Promise<void> {
    const rows = events
      .filter((event) => event.type === CHANGE_RECORDED)
      .map((event) => {
        const data = event.data as ChangeRecorded['data'];
        return {
          change_id: data.changeId,
          name: data.name,
          effective_at: data.effectiveAt,
          kinds: data.kinds ?? null,
          channels: data.channels ?? null,
          description: data.description ?? null,
          recorded_at: event.recordedAt.toISOString(),
          position: event.position.toString(),
        };
      });
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO rm_changes (change_id, name, effective_at, kinds, channels, description, recorded_at, position)
       SELECT x.change_id, x.name, x.effective_at,
              CASE WHEN jsonb_typeof(x.kinds) = 'array' THEN ARRAY(SELECT e FROM jsonb_array_elements_text(x.kinds) WITH ORDINALITY AS t(e, i) ORDER BY i) END,
              CASE WHEN jsonb_typeof(x.channels) = 'array' THEN ARRAY(SELECT e FROM jsonb_array_elements_text(x.channels) WITH ORDINALITY AS t(e, i) ORDER BY i) END,
              x.description, x.recorded_at, x.position
         FROM json_to_recordset($1::json) AS x(
                change_id text, name text, effective_at timestamptz, kinds jsonb, channels jsonb, description text,
                recorded_at timestamptz, position bigint)
       ON CONFLICT (change_id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  },
};
