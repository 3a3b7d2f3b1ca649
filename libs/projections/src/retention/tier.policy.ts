import type { Tier } from '@cx/domain';
import type { TierRule } from './retention.config.js';

/** A customer's value over the window, in ten-thousandths of the platform currency (exact integers). */
export type CustomerValue = { customerId: string; units: number };

export type TierAssignment = { customerId: string; units: number; tier: Tier; reason: string };

/** What the reason says the value was measured over. */
export type ValueWindow = { currency: string; windowDays: number };

const PPM = 1_000_000n;
const toPpm = (share: number): bigint => BigInt(Math.round(share * 1_000_000));

/** `1234.5` in ten-thousandths -> `1,234.50`: two decimals at least, four when they are there. */
export function formatAmount(units: number): string {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  const whole = Math.trunc(abs / 10_000)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const decimals = String(abs % 10_000).padStart(4, '0').replace(/0{1,2}$/, '');
  return `${sign}${whole}.${decimals}`;
}

const percent = (share: number) => `${Number((share * 100).toFixed(4))}%`;

/**
 * The ABC tier of every customer from their value. Pareto: rank by value; a customer is A while
 * the value of the customers ranked above them is still under `aShare` of the total (so the
 * customer who crosses the line is A: the smallest top group that makes at least 80%), B while it
 * is under `bShare`, C after. Customers with the same value share a tier, that of the first of
 * them, so an id never decides a tier. A value of zero or less is C. Absolute: at least
 * `aMinUnits` is A, at least `bMinUnits` is B. Exact: integer arithmetic throughout.
 *
 * Returns every given customer, highest value first (ties by customer id).
 */
export function assignTiers(values: readonly CustomerValue[], rule: TierRule, window: ValueWindow): TierAssignment[] {
  const ranked = [...values].sort((a, b) => b.units - a.units || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
  const measured = (units: number) => `value ${formatAmount(units)} ${window.currency} in the last ${window.windowDays} days`;

  if (rule.mode === 'absolute') {
    return ranked.map(({ customerId, units }) => {
      if (units >= rule.aMinUnits) return { customerId, units, tier: 'A', reason: `${measured(units)}: at least ${formatAmount(rule.aMinUnits)} ${window.currency}` };
      if (units >= rule.bMinUnits) return { customerId, units, tier: 'B', reason: `${measured(units)}: at least ${formatAmount(rule.bMinUnits)} ${window.currency}` };
      return { customerId, units, tier: 'C', reason: `${measured(units)}: under ${formatAmount(rule.bMinUnits)} ${window.currency}` };
    });
  }

  const total = ranked.reduce((sum, v) => (v.units > 0 ? sum + BigInt(v.units) : sum), 0n);
  const aLine = toPpm(rule.aShare) * total;
  const bLine = toPpm(rule.bShare) * total;
  const result: TierAssignment[] = [];
  let above = 0n;
  for (let i = 0; i < ranked.length; ) {
    const units = ranked[i].units;
    let j = i;
    while (j < ranked.length && ranked[j].units === units) j++;
    let tier: Tier;
    let why: string;
    if (units <= 0) [tier, why] = ['C', 'no value'];
    else if (above * PPM < aLine) [tier, why] = ['A', `top ${percent(rule.aShare)}`];
    else if (above * PPM < bLine) [tier, why] = ['B', `top ${percent(rule.bShare)}`];
    else [tier, why] = ['C', `outside the top ${percent(rule.bShare)}`];
    for (const { customerId } of ranked.slice(i, j)) result.push({ customerId, units, tier, reason: `${measured(units)}: ${why}` });
    if (units > 0) above += BigInt(units) * BigInt(j - i);
    i = j;
  }
  return result;
}
