import type { TierRule } from './retention.config.js';
import { assignTiers, type CustomerValue, formatAmount } from './tier.policy.js';

const pareto: TierRule = { mode: 'pareto', aShare: 0.8, bShare: 0.95 };
const window = { currency: 'EUR', windowDays: 365 };
/** Values in whole euros, as ten-thousandths. */
const values = (entries: Record<string, number>): CustomerValue[] => Object.entries(entries).map(([customerId, eur]) => ({ customerId, units: Math.round(eur * 10_000) }));
const tiersOf = (rule: TierRule, entries: Record<string, number>) =>
  Object.fromEntries(assignTiers(values(entries), rule, window).map((t) => [t.customerId, t.tier]));

describe('ABC tiers from value', () => {
  it('cuts A at the smallest top group that makes 80% of value, B at 95%', () => {
    // Total 50 + 30 + 10 + 5 + 3 + 2 = 100. Above u1: 0 < 80: A. Above u2: 50 < 80: A. Above u3: 80, not < 80: so B
    // (u1 and u2 make exactly 80%). Above u4: 90 < 95: B. Above u5: 95, not < 95: C. u6: C.
    expect(tiersOf(pareto, { u1: 50, u2: 30, u3: 10, u4: 5, u5: 3, u6: 2 })).toEqual({ u1: 'A', u2: 'A', u3: 'B', u4: 'B', u5: 'C', u6: 'C' });
  });

  it('puts the customer who crosses the 80% line in A', () => {
    // Total 60 + 25 + 10 + 5 = 100. Above u2: 60 < 80: A, and u1 + u2 = 85% >= 80%. Above u3: 85, not < 80, < 95: B.
    // Above u4: 95, not < 95: C.
    expect(tiersOf(pareto, { u1: 60, u2: 25, u3: 10, u4: 5 })).toEqual({ u1: 'A', u2: 'A', u3: 'B', u4: 'C' });
  });

  it('makes a single customer with all the value A and everyone without value C', () => {
    // Total 120: above u1 is 0 < 96: A. u2 and u3 have nothing; u4 has a net refund.
    expect(tiersOf(pareto, { u1: 120, u2: 0, u3: 0, u4: -15 })).toEqual({ u1: 'A', u2: 'C', u3: 'C', u4: 'C' });
    expect(assignTiers([], pareto, window)).toEqual([]);
  });

  it('gives customers of equal value the same tier, that of the first of them, whatever their ids', () => {
    // Total 40 + 20 + 20 + 20 = 100. Above the three 20s: 40 < 80: all three A (together 100%).
    expect(tiersOf(pareto, { z: 40, b: 20, a: 20, c: 20 })).toEqual({ z: 'A', a: 'A', b: 'A', c: 'A' });
    // Ten customers of 10 each: above each group is 0: all A.
    expect(new Set(Object.values(tiersOf(pareto, Object.fromEntries([...Array(10).keys()].map((i) => [`u${i}`, 10])))))).toEqual(new Set(['A']));
    // Total 70 + 10 + 10 + 10 = 100. Above the 10s: 70 < 80: all three A, though 70 + 10 already reaches 80.
    expect(tiersOf(pareto, { big: 70, x: 10, y: 10, w: 10 })).toEqual({ big: 'A', x: 'A', y: 'A', w: 'A' });
  });

  it('is exact on cents at the line, with no floating point drift', () => {
    // Total 0.10 + 0.20 + 0.70 = 1.00 EUR. Sorted 0.70, 0.20, 0.10. Above 0.20: 0.70 < 0.80: A. Above 0.10: 0.90, not
    // < 0.80, < 0.95: B. (0.7 + 0.2 is 0.8999999999999999 in floating point.)
    expect(tiersOf(pareto, { p: 0.1, q: 0.2, r: 0.7 })).toEqual({ r: 'A', q: 'A', p: 'B' });
    // Total 0.80 + 0.15 + 0.05 = 1.00: above 0.15 is exactly 0.80: B; above 0.05 is exactly 0.95: C.
    expect(tiersOf(pareto, { a: 0.8, b: 0.15, c: 0.05 })).toEqual({ a: 'A', b: 'B', c: 'C' });
  });

  it('follows configured shares', () => {
    // Shares 0.5 / 0.5: no B tier. Total 100: above u2 is 50, not < 50: C.
    expect(tiersOf({ mode: 'pareto', aShare: 0.5, bShare: 0.5 }, { u1: 50, u2: 30, u3: 20 })).toEqual({ u1: 'A', u2: 'C', u3: 'C' });
    // Shares 0.2 / 1: above u2 is 50, not < 20; < 100: B; above u3 is 80 < 100: B.
    expect(tiersOf({ mode: 'pareto', aShare: 0.2, bShare: 1 }, { u1: 50, u2: 30, u3: 20 })).toEqual({ u1: 'A', u2: 'B', u3: 'B' });
  });

  it('uses fixed minimum values in absolute mode', () => {
    const absolute: TierRule = { mode: 'absolute', aMinUnits: 1_000 * 10_000, bMinUnits: 250.5 * 10_000 };
    expect(tiersOf(absolute, { a: 1_000, b: 999.99, c: 250.5, d: 250.49, e: 0 })).toEqual({ a: 'A', b: 'B', c: 'B', d: 'C', e: 'C' });
  });

  it('explains each tier with the value, the window and the cut', () => {
    const assigned = assignTiers(values({ u1: 1234.5, u2: 200, u3: 50, u4: 0 }), pareto, window);
    // Total 1484.50; 80% = 1187.60, 95% = 1410.275. Above u2: 1234.50 >= 1187.60, < 1410.275: B. Above u3: 1434.50: C.
    expect(assigned).toEqual([
      { customerId: 'u1', units: 12_345_000, tier: 'A', reason: 'value 1,234.50 EUR in the last 365 days: top 80%' },
      { customerId: 'u2', units: 2_000_000, tier: 'B', reason: 'value 200.00 EUR in the last 365 days: top 95%' },
      { customerId: 'u3', units: 500_000, tier: 'C', reason: 'value 50.00 EUR in the last 365 days: outside the top 95%' },
      { customerId: 'u4', units: 0, tier: 'C', reason: 'value 0.00 EUR in the last 365 days: no value' },
    ]);
    const absolute = assignTiers(values({ v: 300 }), { mode: 'absolute', aMinUnits: 10_000_000, bMinUnits: 2_505_000 }, { currency: 'USD', windowDays: 90 });
    expect(absolute[0].reason).toBe('value 300.00 USD in the last 90 days: at least 250.50 USD');
  });

  it('formats amounts with thousands separators and up to four decimals', () => {
    expect(formatAmount(123_456_789_012)).toBe('12,345,678.9012');
    expect(formatAmount(0)).toBe('0.00');
    expect(formatAmount(5)).toBe('0.0005');
    expect(formatAmount(-1_234_500)).toBe('-123.45');
    expect(formatAmount(10_000_000)).toBe('1,000.00');
  });
});
