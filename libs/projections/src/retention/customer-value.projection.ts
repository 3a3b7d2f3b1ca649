import { type CustomerTierChanged, isTier, type MomentRecorded } from '@cx/domain';
import type { RecordedEvent } from '@cx/event-store';
import type { Projection } from '../projection.js';
import { formatUnits, toUnits } from '../read-models/customer-360/customer-360.fold.js';
import { insertRows } from '../rebuild-rows.js';
import { customerValueEntities } from './retention.entities.js';
import { customerValueMigrations } from './retention.migrations.js';

export const CUSTOMER_VALUE = 'customerValue';

/** The time an event states, or when it was recorded when its data has none that parses. */
function isoTime(value: unknown, event: RecordedEvent): string {
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return new Date(Number.isNaN(parsed) ? event.recordedAt.getTime() : parsed).toISOString();
}

const insertPayments = `
  INSERT INTO rm_customer_payments (event_id, moment_id, customer_id, occurred_at, amount, currency, position)
  SELECT x.event_id, x.moment_id, x.customer_id, x.occurred_at, x.amount, x.currency, x.position
    FROM json_to_recordset($1::json)
      AS x(event_id uuid, moment_id text, customer_id text, occurred_at timestamptz, amount numeric, currency text, position bigint)`;

const insertTiers = `
  INSERT INTO rm_customer_tiers (customer_id, tier, changed_at, reason, position)
  SELECT x.customer_id, x.tier, x.changed_at, x.reason, x.position
    FROM json_to_recordset($1::json) AS x(customer_id text, tier text, changed_at timestamptz, reason text, position bigint)`;

const upsertTiers = `${insertTiers}
  ON CONFLICT (customer_id) DO UPDATE
    SET tier = excluded.tier, changed_at = excluded.changed_at, reason = excluded.reason, position = excluded.position
    WHERE rm_customer_tiers.position < excluded.position`;

const insertChanges = `
  INSERT INTO rm_tier_changes (position, customer_id, from_tier, to_tier, reason, changed_at)
  SELECT x.position, x.customer_id, x.from_tier, x.to_tier, x.reason, x.changed_at
    FROM json_to_recordset($1::json)
      AS x(position bigint, customer_id text, from_tier text, to_tier text, reason text, changed_at timestamptz)`;

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
    if (payments.length > 0) await manager.query(`${insertPayments} ON CONFLICT (event_id) DO NOTHING`, [JSON.stringify(payments)]);
    if (tiers.size > 0) await manager.query(upsertTiers, [JSON.stringify([...tiers.values()])]);
    if (changes.length > 0) await manager.query(`${insertChanges} ON CONFLICT (position) DO NOTHING`, [JSON.stringify(changes)]);
  },

  /** A rebuild writes payments and tier moves as they come (each event once) and each customer's last tier at the end. */
  bulk() {
    const tiers = new Map<string, TierRow>();
    return {
      get held() {
        return tiers.size;
      },
      add(events) {
        const batch = rowsOf(events);
        for (const [customerId, tier] of batch.tiers) tiers.set(customerId, tier);
        if (batch.payments.length === 0 && batch.changes.length === 0) return undefined;
        const payments = batch.payments.length > 0 ? JSON.stringify(batch.payments) : undefined;
        const changes = batch.changes.length > 0 ? JSON.stringify(batch.changes) : undefined;
        return async (manager) => {
          if (payments) await manager.query(insertPayments, [payments]);
          if (changes) await manager.query(insertChanges, [changes]);
        };
      },
      *finish() {
        yield* insertRows(insertTiers, tiers.values());
        tiers.clear();
      },
    };
  },
};
