import { channelGroup, type ComplaintEvent, complaintEventTypes, isChannel, unreachable } from '@cx/domain';
import type { RecordedEvent } from '@cx/event-store';
import { Column, Entity, type EntityManager, PrimaryColumn } from 'typeorm';
import type { Projection } from '../../projection.js';
import { insertRows, rowParams, rowsInsert, rowWriter, type RowTable } from '../../rebuild-rows.js';

/** One complaint: where it stands and when it reached each step of its lifecycle. */
@Entity({ name: 'rm_complaints' })
export class ComplaintRow {
  @PrimaryColumn({ name: 'complaint_id', type: 'text' })
  complaintId!: string;

  @Column({ name: 'customer_id', type: 'text' })
  customerId!: string;

  @Column({ type: 'text' })
  category!: string;

  @Column({ type: 'text' })
  channel!: string;

  @Column({ name: 'channel_group', type: 'text', nullable: true })
  channelGroup!: string | null;

  @Column({ type: 'text' })
  severity!: string;

  @Column({ type: 'text', nullable: true })
  area!: string | null;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'filed_at', type: 'timestamptz' })
  filedAt!: Date;

  @Column({ name: 'acknowledged_at', type: 'timestamptz', nullable: true })
  acknowledgedAt!: Date | null;

  @Column({ name: 'routed_at', type: 'timestamptz', nullable: true })
  routedAt!: Date | null;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt!: Date | null;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;

  @Column({ name: 'reopened_count', type: 'integer' })
  reopenedCount!: number;

  @Column({ name: 'last_event_at', type: 'timestamptz' })
  lastEventAt!: Date;

  @Column({ name: 'last_position', type: 'bigint' })
  lastPosition!: string;
}


/** What one batch says about one complaint: its events folded in log order. */
type Change = {
  complaint_id: string;
  customer_id: string;
  filed: boolean;
  category: string | null;
  channel: string | null;
  channel_group: string | null;
  severity: string | null;
  filed_at: string | null;
  acknowledged_at: string | null;
  routed_at: string | null;
  area: string | null;
  resolved_at: string | null;
  confirmed_at: string | null;
  closed_at: string | null;
  reopened: number;
  status: string;
  last_event_at: string;
  last_position: string;
};

function fold(change: Change, event: ComplaintEvent, position: string): void {
  change.last_position = position;
  switch (event.type) {
    case 'complaint.filed.v1': {
      const { data } = event;
      Object.assign(change, {
        filed: true,
        category: data.category,
        channel: data.channel,
        channel_group: isChannel(data.channel) ? channelGroup(data.channel) : null,
        severity: data.severity,
        filed_at: data.filedAt,
        status: 'filed',
        last_event_at: data.filedAt,
      });
      return;
    }
    case 'complaint.acknowledged.v1':
      change.acknowledged_at ??= event.data.acknowledgedAt;
      change.status = 'acknowledged';
      change.last_event_at = event.data.acknowledgedAt;
      return;
    case 'complaint.routed.v1':
      change.routed_at ??= event.data.routedAt;
      change.area = event.data.area;
      change.status = 'routed';
      change.last_event_at = event.data.routedAt;
      return;
    case 'complaint.resolved.v1':
      change.resolved_at ??= event.data.resolvedAt;
      change.status = 'resolved';
      change.last_event_at = event.data.resolvedAt;
      return;
    case 'complaint.confirmed.v1':
      change.confirmed_at ??= event.data.confirmedAt;
      change.status = 'confirmed';
      change.last_event_at = event.data.confirmedAt;
      return;
    case 'complaint.reopened.v1':
      // Back with its area, to be resolved again (the lifecycle's `routed`).
      change.reopened += 1;
      change.status = 'routed';
      change.last_event_at = event.data.reopenedAt;
      return;
    case 'complaint.closed.v1':
      change.closed_at ??= event.data.closedAt;
      change.status = 'closed';
      change.last_event_at = event.data.closedAt;
      return;
    default:
      unreachable(event);
  }
}

/** Complaints filed in this batch, with whatever else the batch says about them. */
const FILED_ROWS: RowTable = {
  table: 'rm_complaints',
  columns: [
    ['complaint_id', 'text'],
    ['customer_id', 'text'],
    ['category', 'text'],
    ['channel', 'text'],
    ['channel_group', 'text'],
    ['severity', 'text'],
    ['area', 'text'],
    ['status', 'text'],
    ['filed_at', 'timestamptz'],
    ['acknowledged_at', 'timestamptz'],
    ['routed_at', 'timestamptz'],
    ['resolved_at', 'timestamptz'],
    ['confirmed_at', 'timestamptz'],
    ['closed_at', 'timestamptz'],
    ['reopened_count', 'integer', 'reopened'],
    ['last_event_at', 'timestamptz'],
    ['last_position', 'bigint'],
  ],
};

const INSERT_FILED = rowsInsert(FILED_ROWS, { key: ['complaint_id'], conflict: 'nothing' });

/** Complaints filed in an earlier batch: first times stay first, the area and status follow the latest event. */
const KNOWN_ROWS = rowParams({
  table: 'rm_complaints',
  columns: [
    ['complaint_id', 'text'],
    ['acknowledged_at', 'timestamptz'],
    ['routed_at', 'timestamptz'],
    ['area', 'text'],
    ['resolved_at', 'timestamptz'],
    ['confirmed_at', 'timestamptz'],
    ['closed_at', 'timestamptz'],
    ['reopened', 'integer'],
    ['status', 'text'],
    ['last_event_at', 'timestamptz'],
    ['last_position', 'bigint'],
  ],
});
const UPDATE_KNOWN = `
  UPDATE rm_complaints c
     SET acknowledged_at = COALESCE(c.acknowledged_at, x.acknowledged_at),
         routed_at       = COALESCE(c.routed_at, x.routed_at),
         area            = COALESCE(x.area, c.area),
         resolved_at     = COALESCE(c.resolved_at, x.resolved_at),
         confirmed_at    = COALESCE(c.confirmed_at, x.confirmed_at),
         closed_at       = COALESCE(c.closed_at, x.closed_at),
         reopened_count  = c.reopened_count + x.reopened,
         status          = x.status,
         last_event_at   = x.last_event_at,
         last_position   = x.last_position
    FROM ${KNOWN_ROWS.from}
   WHERE c.complaint_id = x.complaint_id`;

/** Folds the complaint events among `events` into what they say per complaint, in log order. */
function foldInto(changes: Map<string, Change>, events: readonly RecordedEvent[]): Map<string, Change> {
  for (const event of events) {
    if (!(complaintEventTypes as readonly string[]).includes(event.type)) continue;
    const complaint = event as unknown as ComplaintEvent;
    const { complaintId, customerId } = complaint.data;
    let change = changes.get(complaintId);
    if (!change) {
      change = {
        complaint_id: complaintId,
        customer_id: customerId,
        filed: false,
        category: null,
        channel: null,
        channel_group: null,
        severity: null,
        filed_at: null,
        acknowledged_at: null,
        routed_at: null,
        area: null,
        resolved_at: null,
        confirmed_at: null,
        closed_at: null,
        reopened: 0,
        status: 'filed',
        last_event_at: '',
        last_position: '0',
      };
      changes.set(complaintId, change);
    }
    fold(change, complaint, event.position.toString());
  }
  return changes;
}

export const complaintsProjection: Projection = {
  name: 'complaints',
  version: 1,
  handles: complaintEventTypes,
  tables: ['rm_complaints'],
  migrations: [
    {
      id: '0425_complaints',
      sql: `
        CREATE TABLE rm_complaints (
          complaint_id     text PRIMARY KEY,
          customer_id      text        NOT NULL,
          category         text        NOT NULL,
          channel          text        NOT NULL,
          channel_group    text,
          severity         text        NOT NULL,
          area             text,
          status           text        NOT NULL,
          filed_at         timestamptz NOT NULL,
          acknowledged_at  timestamptz,
          routed_at        timestamptz,
          resolved_at      timestamptz,
          confirmed_at     timestamptz,
          closed_at        timestamptz,
          reopened_count   integer     NOT NULL DEFAULT 0,
          last_event_at    timestamptz NOT NULL,
          last_position    bigint      NOT NULL
        );
        CREATE INDEX rm_complaints_filed_at ON rm_complaints (filed_at);
        CREATE INDEX rm_complaints_customer ON rm_complaints (customer_id, filed_at);
        COMMENT ON TABLE rm_complaints IS
          'Complaints read model: one row per complaint (complaint.*.v1), the first time it reached each step, its status and area.';
      `,
    },
  ],
  entities: [ComplaintRow],

  async apply(events: readonly RecordedEvent[], manager: EntityManager): Promise<void> {
    const changes = foldInto(new Map(), events);
    const filed = [...changes.values()].filter((c) => c.filed);
    const known = [...changes.values()].filter((c) => !c.filed);
    if (filed.length > 0) await manager.query(INSERT_FILED.sql, INSERT_FILED.params(filed));
    if (known.length > 0) await manager.query(UPDATE_KNOWN, KNOWN_ROWS.params(known));
  },

  /** A rebuild folds every complaint's lifecycle in memory and writes each complaint once, at the end. */
  bulk(format) {
    const changes = new Map<string, Change>();
    return {
      get held() {
        return changes.size;
      },
      add(events) {
        foldInto(changes, events);
        return undefined;
      },
      *finish() {
        // Steps of a complaint whose filing is not in the log change no row, as in apply.
        yield* insertRows(rowWriter(FILED_ROWS, format), [...changes.values()].filter((c) => c.filed));
        changes.clear();
      },
    };
  },
};
