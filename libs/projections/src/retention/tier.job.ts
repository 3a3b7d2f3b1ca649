import { customerDecider, type CustomerState, type CustomerStreamEvent, customerStreamId, type Tier } from '@cx/domain';
import type { EventStore, RecordedEvent, StreamAppend } from '@cx/event-store';
import type { Pool } from 'pg';
import { parseUnits } from '../read-models/customer-360/customer-360.fold.js';
import { CUSTOMER_VALUE } from './customer-value.projection.js';
import { waitUntilCaughtUp } from './read-model.gate.js';
import type { RetentionConfig, TierRule } from './retention.config.js';
import { tierChangeEventId } from './retention.ids.js';
import { assignTiers, formatAmount } from './tier.policy.js';

const DAY_MS = 86_400_000;
/** Customer streams locked and decided in one transaction. */
const CHUNK = 200;

export type TierChange = { customerId: string; from: Tier; to: Tier; reason: string; value: string; position: string };

export type TierRuleView = { mode: 'pareto'; aShare: number; bShare: number } | { mode: 'absolute'; aMinValue: string; bMinValue: string };

export type TierRun = {
  asOf: string;
  /** Payments with `from < occurredAt <= to` count. */
  window: { from: string; to: string; days: number };
  currency: string;
  rule: TierRuleView;
  /** Customers with a payment in the window, and those in A or B without one. */
  customers: number;
  /** Those customers by the tier they have after the run. */
  tiers: Record<Tier, number>;
  /** The tier changes appended, highest value first. */
  changes: TierChange[];
  /** The highest log position among them ('0' when none): pass it as minPosition to read them back. */
  position: string;
};

const ruleView = (rule: TierRule): TierRuleView =>
  rule.mode === 'pareto'
    ? rule
    : { mode: 'absolute', aMinValue: formatAmount(rule.aMinUnits).replace(/,/g, ''), bMinValue: formatAmount(rule.bMinUnits).replace(/,/g, '') };

/** The customer's state as its decider sees it: only the customer's own event types (older logs hold moments there too). */
const customerState = (history: readonly RecordedEvent[]): CustomerState =>
  history
    .filter((e) => e.type.startsWith('customer.'))
    .reduce((state, e) => customerDecider.evolve(state, e as unknown as CustomerStreamEvent), customerDecider.initialState);

/**
 * Recomputes every customer's ABC tier from the value they brought in the window and appends a
 * `customer.tier-changed.v1` for each customer whose tier moves. Values come from the
 * `customerValue` read model; each change is decided by the customer decider against the
 * customer's stream under its writer lock, so a tier changed meanwhile (by a registration, an
 * update, another job) is respected and a re-run appends nothing. Deterministic given `now`.
 */
export class TierJob {
  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly config: RetentionConfig,
  ) {}

  async run(now: Date, options: { correlationId?: string; waitMs?: number } = {}): Promise<TierRun> {
    await waitUntilCaughtUp(this.store, this.pool, [CUSTOMER_VALUE], options.waitMs ?? 5_000);
    const { currency, windowDays, rule } = this.config;
    const from = new Date(now.getTime() - windowDays * DAY_MS);
    const { rows } = await this.pool.query<{ customerId: string; amount: string; tier: Tier }>(
      `WITH value AS (
         SELECT customer_id, sum(amount) AS amount
           FROM rm_customer_payments
          WHERE currency = $1 AND occurred_at > $2 AND occurred_at <= $3
          GROUP BY customer_id)
       SELECT customer_id AS "customerId", coalesce(v.amount, 0)::text AS amount, coalesce(t.tier, 'C') AS tier
         FROM value v
         FULL JOIN (SELECT customer_id, tier FROM rm_customer_tiers WHERE tier <> 'C') t USING (customer_id)`,
      [currency, from.toISOString(), now.toISOString()],
    );
    const current = new Map(rows.map((r) => [r.customerId, r.tier]));
    const assigned = assignTiers(
      rows.map((r) => ({ customerId: r.customerId, units: parseUnits(r.amount) })),
      rule,
      { currency, windowDays },
    );
    const tiers: Record<Tier, number> = { A: 0, B: 0, C: 0 };
    for (const a of assigned) tiers[a.tier] += 1;
    const moves = assigned.filter((a) => a.tier !== current.get(a.customerId));

    const changedAt = now.toISOString();
    const metadata = { correlationId: options.correlationId ?? `tier-job:${changedAt}` };
    const changes: TierChange[] = [];
    let position = 0n;
    for (let i = 0; i < moves.length; i += CHUNK) {
      const chunk = moves.slice(i, i + CHUNK);
      const byStream = new Map(chunk.map((move) => [customerStreamId(move.customerId), move]));
      const streams = [...byStream.keys()];
      // The tier each change moved from, as the last (possibly retried) decision saw it.
      let decidedFrom = new Map<string, Tier>();
      const results = await this.store.decideAndAppend({ lock: streams, read: streams }, (histories) => {
        decidedFrom = new Map();
        return [...byStream].flatMap(([streamId, move]): StreamAppend[] => {
          const history = histories.get(streamId) ?? [];
          const state = customerState(history);
          const decided = customerDecider.decide(
            { type: 'ChangeTier', data: { customerId: move.customerId, tier: move.tier, reason: move.reason, changedAt } },
            state,
          );
          if (decided.length === 0) return [];
          decidedFrom.set(streamId, state.tier);
          const version = history.at(-1)?.streamVersion ?? -1;
          return [
            {
              streamId,
              expectedVersion: version === -1 ? 'no_stream' : version,
              events: decided.map((e) => ({ id: tierChangeEventId(move.customerId, version, move.tier), type: e.type, data: e.data, metadata })),
            },
          ];
        });
      });
      for (const result of results) {
        const move = byStream.get(result.streamId)!;
        for (const appended of result.events) {
          if (appended.status !== 'appended') continue;
          changes.push({
            customerId: move.customerId,
            from: decidedFrom.get(result.streamId) ?? 'C',
            to: move.tier,
            reason: move.reason,
            value: formatAmount(move.units).replace(/,/g, ''),
            position: appended.position.toString(),
          });
          if (appended.position > position) position = appended.position;
        }
      }
    }
    return {
      asOf: changedAt,
      window: { from: from.toISOString(), to: changedAt, days: windowDays },
      currency,
      rule: ruleView(rule),
      customers: assigned.length,
      tiers,
      changes,
      position: position.toString(),
    };
  }
}
