import { type CustomerTierChanged, isTier, type MomentRecorded } from '@cx/domain';
import type { RecordedEvent } from '@cx/event-store';
import type { Projection } from '../projection.js';
import { formatUnits, toUnits } from '../read-models/customer-360/customer-360.fold.js';
import { insertRows, rowsInsert, rowWriter, type RowTable } from '../rebuild-rows.js';
import { customerValueEntities } from './retention.entities.js';
import { customerValueMigrations } from './retention.migrations.js';

export const CUSTOMER_VALUE = 'customerValue';

/** The time an event states, or when it was recorded when its data has none that parses. */
function isoTime(value: unknown, event: RecordedEvent): string {
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return new Date(Number.isNaN(parsed) ? event.recordedAt.getTime() : parsed).toISOString();
}

const PAYMENT_ROWS: RowTable = {
  table: 'rm_customer_payments',
  columns: [
    ['event_id', 'uuid'],
    ['moment_id', 'text'],
    ['customer_id', 'text'],
    ['occurred_at', 'timestamptz'],
    ['amount', 'numeric'],
    ['currency', 'text'],
    ['position', 'bigint'],
  ],
};

const TIER_ROWS: RowTable = {
  table: 'rm_customer_tiers',
  columns: [
    ['customer_id', 'text'],
    ['tier', 'text'],
    ['changed_at', 'timestamptz'],
    ['reason', 'text'],
    ['position', 'bigint'],
  ],
};

const TIER_CHANGE_ROWS: RowTable = {
  table: 'rm_tier_changes',
  columns: [
    ['position', 'bigint'],
    ['customer_id', 'text'],
    ['from_tier', 'text'],
    ['to_tier', 'text'],
    ['reason', 'text'],
    ['changed_at', 'timestamptz'],
  ],
};

const insertPayments = rowsInsert(PAYMENT_ROWS, { key: ['event_id'], conflict: 'nothing' });
const insertTiers = rowsInsert(TIER_ROWS);
const upsertTiers = `${insertTiers.sql}
  ON CONFLICT (customer_id) DO UPDATE
    SET tier = excluded.tier, changed_at = excluded.changed_at, reason = excluded.reason, position = excluded.position
    WHERE rm_customer_tiers.position < excluded.position`;
const insertChanges = rowsInsert(TIER_CHANGE_ROWS, { key: ['position'], conflict: 'nothing' });

type TierRow = { customer_id: string; tier: string; changed_at: string; reason: string; position: string };

/** A batch's payments, tier moves, and each customer's last tier in it. */
function rowsOf(events: readonly RecordedEvent[]) {
  const payments: object[] = [];
  const tiers = new Map<string, TierRow>();
  const changes: object[] = [];
  for (const event of events) {
    if (event.type === 'moment.recorded.v1') {
      const data = event.data as MomentRecorded['data'];
      if (data.kind !== 'payment' || typeof data.amount !== 'number' || !Number.isFinite(data.amount) || typeof data.currency !== 'string') continue;
      payments.push({
        event_id: event.id,
        moment_id: String(data.momentId),
        customer_id: data.customerId,
        occurred_at: isoTime(data.occurredAt, event),
        // Rounded to 4 decimals as customer 360 sums them, so both read models agree to the unit.
        amount: formatUnits(toUnits(data.amount)),
        currency: data.currency,
        position: event.position.toString(),
      });
    } else {
      const data = event.data as CustomerTierChanged['data'];
      if (!isTier(data.to)) continue;
      const changedAt = isoTime(data.changedAt, event);
      const position = event.position.toString();
      tiers.set(data.customerId, { customer_id: data.customerId, tier: data.to, changed_at: changedAt, reason: String(data.reason ?? ''), position });
      changes.push({ position, customer_id: data.customerId, from_tier: String(data.from), to_tier: data.to, reason: String(data.reason ?? ''), changed_at: changedAt });
    }
  }
  return { payments, tiers, changes };
}

/**
 * What the ABC tiers are cut from: every payment with its date (customer 360 keeps only the
 * lifetime sum; the tiers need a rolling window), and each customer's current tier with the
 * history of moves. Three statements per batch at most.
 */
export const customerValueProjection: Projection = {
  name: CUSTOMER_VALUE,
  version: 1,
  handles: ['moment.recorded.v1', 'customer.tier-changed.v1'],
  tables: ['rm_customer_payments', 'rm_customer_tiers', 'rm_tier_changes'],
  migrations: customerValueMigrations,
  entities: customerValueEntities,
  async apply(events, manager) {
    const { payments, tiers, changes } = rowsOf(events);
    if (payments.length > 0) await manager.query(insertPayments.sql, insertPayments.params(payments));
    if (tiers.size > 0) await manager.query(upsertTiers, insertTiers.params([...tiers.values()]));
    if (changes.length > 0) await manager.query(insertChanges.sql, insertChanges.params(changes));
  },

  /** A rebuild writes payments and tier moves as they come (each event once) and each customer's last tier at the end. */
  bulk(format) {
    const tiers = new Map<string, TierRow>();
    const payments = rowWriter(PAYMENT_ROWS, format);
    const changes = rowWriter(TIER_CHANGE_ROWS, format);
    return {
      get held() {
        return tiers.size;
      },
      add(events) {
        const batch = rowsOf(events);
        for (const [customerId, tier] of batch.tiers) tiers.set(customerId, tier);
        const writes = [
          ...(batch.payments.length > 0 ? [payments.write([payments.encode(batch.payments)])] : []),
          ...(batch.changes.length > 0 ? [changes.write([changes.encode(batch.changes)])] : []),
        ];
        if (writes.length === 0) return undefined;
        return async (manager) => {
          for (const write of writes) await write(manager);
        };
      },
      *finish() {
        yield* insertRows(rowWriter(TIER_ROWS, format), tiers.values());
        tiers.clear();
      },
    };
  },
};
