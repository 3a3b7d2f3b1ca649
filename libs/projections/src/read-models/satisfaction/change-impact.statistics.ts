/**
 * Before/after comparisons of satisfaction measures with 95% confidence intervals. Pure
 * functions over counts and sums, so the query side aggregates in SQL and only the arithmetic
 * lives here.
 *
 * - NPS: each answer scores +1 (promoter), 0 (passive) or -1 (detractor); NPS is 100 x the mean
 *   score, so the difference of two NPS is a difference of means with
 *   SE = 100 x sqrt(var1/n1 + var2/n2) (sample variances), normal quantile.
 * - CSAT%: difference of two proportions (unpooled Wald), normal quantile.
 * - CES: difference of two means with Welch's SE and the Welch-Satterthwaite degrees of freedom,
 *   Student t quantile.
 * An interval needs at least two answers on each side (a single answer has no spread).
 */

export const Z_975 = 1.959963984540054;
const CONFIDENCE_TAIL = 0.975;

export type NpsSample = { promoters: number; passives: number; detractors: number };
export type ProportionSample = { n: number; successes: number };
export type MeanSample = { n: number; sum: number; sumOfSquares: number };

export type Interval95 = { low: number; high: number };

export type Comparison = {
  before: number | null;
  after: number | null;
  nBefore: number;
  nAfter: number;
  /** after - before; null unless both sides have answers. */
  difference: number | null;
  ci95: Interval95 | null;
  /** The interval excludes 0; false when there is no interval. */
  significant: boolean;
};

/** Unbiased sample variance from n, Σx and Σx²; clamped at 0 against rounding below it. */
export function sampleVariance(n: number, sum: number, sumOfSquares: number): number {
  if (n < 2) return Number.NaN;
  return Math.max(0, (sumOfSquares - (sum * sum) / n) / (n - 1));
}

function comparison(
  before: number | null,
  after: number | null,
  nBefore: number,
  nAfter: number,
  halfWidth: (difference: number) => number | null,
): Comparison {
  const difference = before === null || after === null ? null : after - before;
  const half = difference === null || nBefore < 2 || nAfter < 2 ? null : halfWidth(difference);
  const ci95 = half === null || difference === null ? null : { low: difference - half, high: difference + half };
  return { before, after, nBefore, nAfter, difference, ci95, significant: ci95 !== null && (ci95.low > 0 || ci95.high < 0) };
}

export function compareNps(before: NpsSample, after: NpsSample): Comparison {
  const stats = (s: NpsSample) => {
    const n = s.promoters + s.passives + s.detractors;
    const sum = s.promoters - s.detractors;
    return { n, nps: n === 0 ? null : (100 * sum) / n, variance: sampleVariance(n, sum, s.promoters + s.detractors) };
  };
  const b = stats(before);
  const a = stats(after);
  return comparison(b.nps, a.nps, b.n, a.n, () => Z_975 * 100 * Math.sqrt(b.variance / b.n + a.variance / a.n));
}

/** Proportions in percent (CSAT%: share of 4-5). */
export function compareProportions(before: ProportionSample, after: ProportionSample): Comparison {
  const p = (s: ProportionSample) => (s.n === 0 ? null : s.successes / s.n);
  const p1 = p(before);
  const p2 = p(after);
  return comparison(p1 === null ? null : 100 * p1, p2 === null ? null : 100 * p2, before.n, after.n, () =>
    Z_975 * 100 * Math.sqrt(((p1 as number) * (1 - (p1 as number))) / before.n + ((p2 as number) * (1 - (p2 as number))) / after.n),
  );
}

/** Welch's comparison of two means (CES). */
export function compareMeans(before: MeanSample, after: MeanSample): Comparison {
  const mean = (s: MeanSample) => (s.n === 0 ? null : s.sum / s.n);
  return comparison(mean(before), mean(after), before.n, after.n, () => {
    const w1 = sampleVariance(before.n, before.sum, before.sumOfSquares) / before.n;
    const w2 = sampleVariance(after.n, after.sum, after.sumOfSquares) / after.n;
    const se = Math.sqrt(w1 + w2);
    if (se === 0) return 0;
    return studentTQuantile(CONFIDENCE_TAIL, welchDegreesOfFreedom(before, after)) * se;
  });
}

/** Welch-Satterthwaite: (w1 + w2)² / (w1²/(n1-1) + w2²/(n2-1)), with wi = si²/ni. */
export function welchDegreesOfFreedom(before: MeanSample, after: MeanSample): number {
  const w1 = sampleVariance(before.n, before.sum, before.sumOfSquares) / before.n;
  const w2 = sampleVariance(after.n, after.sum, after.sumOfSquares) / after.n;
  return (w1 + w2) ** 2 / ((w1 * w1) / (before.n - 1) + (w2 * w2) / (after.n - 1));
}

// Lanczos approximation (g = 7, n = 9), good to about 15 significant digits.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom (df > 0, not necessarily whole). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T <= t) = p, by bisection (the CDF is monotone); the normal quantile for huge df. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new RangeError(`studentTQuantile needs 0 < p < 1 and df > 0, got p=${p}, df=${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, df) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}
