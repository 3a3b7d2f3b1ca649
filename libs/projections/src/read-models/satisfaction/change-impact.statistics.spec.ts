import {
  compareMeans,
  compareNps,
  compareProportions,
  sampleVariance,
  studentTCdf,
  studentTQuantile,
  welchDegreesOfFreedom,
  Z_975,
} from './change-impact.statistics.js';

describe('change impact statistics', () => {
  describe('Student t', () => {
    it.each([
      // Two-sided 95% critical values from any t table.
      [1, 12.706205],
      [2, 4.302653],
      [10, 2.228139],
      [30, 2.042272],
      [1e6, 1.959966],
    ])('has the 0.975 quantile of df=%p at %p', (df, expected) => {
      expect(studentTQuantile(0.975, df)).toBeCloseTo(expected, 5);
    });

    it('is symmetric and matches the Cauchy distribution at df=1', () => {
      // df=1 is Cauchy: F(1) = 1/2 + atan(1)/pi = 0.75.
      expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 12);
      expect(studentTCdf(-1, 1)).toBeCloseTo(0.25, 12);
      expect(studentTQuantile(0.025, 10)).toBeCloseTo(-2.228139, 5);
      expect(studentTQuantile(0.5, 7)).toBe(0);
    });

    it('refuses a probability outside (0, 1) or a non-positive df', () => {
      expect(() => studentTQuantile(1, 5)).toThrow(RangeError);
      expect(() => studentTQuantile(0.975, 0)).toThrow(RangeError);
    });
  });

  it('computes the sample variance from n, sum and sum of squares', () => {
    // 2, 4, 6: mean 4, squared deviations 4 + 0 + 4 = 8, / (3 - 1) = 4.
    expect(sampleVariance(3, 12, 56)).toBe(4);
    expect(sampleVariance(1, 5, 25)).toBeNaN();
  });

  describe('NPS', () => {
    it('compares 5/3/2 with 7/2/1: +30 points, not significant', () => {
      // Before: n=10, score sum 5-2 = 3 -> NPS 30; sum of squares 5+2 = 7; var = (7 - 3²/10)/9 = 6.1/9.
      // After: n=10, sum 7-1 = 6 -> NPS 60; squares 8; var = (8 - 36/10)/9 = 4.4/9.
      // SE = 100 * sqrt((6.1/9)/10 + (4.4/9)/10) = 100 * sqrt(10.5/90) = 34.15650...
      // CI = 30 ± 1.959964 * 34.156503 = 30 ± 66.945515 -> [-36.945515, 96.945515].
      const result = compareNps({ promoters: 5, passives: 3, detractors: 2 }, { promoters: 7, passives: 2, detractors: 1 });
      expect(result).toMatchObject({ before: 30, after: 60, nBefore: 10, nAfter: 10, difference: 30, significant: false });
      expect(result.ci95!.low).toBeCloseTo(-36.945515, 5);
      expect(result.ci95!.high).toBeCloseTo(96.945515, 5);
      expect(result.ci95!.high - 30).toBeCloseTo(Z_975 * 100 * Math.sqrt(10.5 / 90), 9);
    });

    it('finds a swing from 20/30/50 to 50/30/20 over 100 answers each significant', () => {
      // NPS -30 -> 30; both var = (70 - 30²/100)/99 = 61/99; SE = 100 * sqrt(2 * 61/99 / 100) = 11.101006.
      // CI = 60 ± 1.959964 * 11.101006 = 60 ± 21.757571 -> [38.242429, 81.757571], excludes 0.
      const result = compareNps({ promoters: 20, passives: 30, detractors: 50 }, { promoters: 50, passives: 30, detractors: 20 });
      expect(result.before).toBeCloseTo(-30, 12);
      expect(result.after).toBeCloseTo(30, 12);
      expect(result.difference).toBeCloseTo(60, 12);
      expect(result.ci95!.low).toBeCloseTo(38.242429, 5);
      expect(result.ci95!.high).toBeCloseTo(81.757571, 5);
      expect(result.significant).toBe(true);
    });

    it('has no interval with fewer than two answers on a side, and no difference with none', () => {
      const one = compareNps({ promoters: 1, passives: 0, detractors: 0 }, { promoters: 3, passives: 0, detractors: 2 });
      expect(one).toMatchObject({ before: 100, after: 20, difference: -80, ci95: null, significant: false });
      const none = compareNps({ promoters: 0, passives: 0, detractors: 0 }, { promoters: 3, passives: 0, detractors: 2 });
      expect(none).toMatchObject({ before: null, after: 20, nBefore: 0, nAfter: 5, difference: null, ci95: null, significant: false });
    });
  });

  describe('CSAT%', () => {
    it('compares 4 of 5 with 9 of 10 as a difference of proportions', () => {
      // 80% -> 90%: +10 points; SE = 100 * sqrt(0.8*0.2/5 + 0.9*0.1/10) = 100 * sqrt(0.041) = 20.248457.
      // CI = 10 ± 1.959964 * 20.248457 = 10 ± 39.686246 -> [-29.686246, 49.686246].
      const result = compareProportions({ n: 5, successes: 4 }, { n: 10, successes: 9 });
      expect(result.before).toBeCloseTo(80, 12);
      expect(result.after).toBeCloseTo(90, 12);
      expect(result.difference).toBeCloseTo(10, 12);
      expect(result.ci95!.low).toBeCloseTo(-29.686246, 5);
      expect(result.ci95!.high).toBeCloseTo(49.686246, 5);
      expect(result.significant).toBe(false);
    });

    it('is significant for 50 of 100 against 80 of 100', () => {
      // +30 points; SE = 100 * sqrt(0.25/100 + 0.16/100) = 100 * sqrt(0.0041) = 6.403124; half width 12.549894.
      const result = compareProportions({ n: 100, successes: 50 }, { n: 100, successes: 80 });
      expect(result.ci95!.low).toBeCloseTo(30 - 12.549894, 5);
      expect(result.significant).toBe(true);
    });
  });

  describe('CES (Welch)', () => {
    const before = { n: 3, sum: 2 + 4 + 6, sumOfSquares: 4 + 16 + 36 };
    const after = { n: 4, sum: 1 + 1 + 2 + 2, sumOfSquares: 1 + 1 + 4 + 4 };

    it('has the Welch-Satterthwaite degrees of freedom', () => {
      // s1² = 4, s2² = 1/3; w1 = 4/3, w2 = 1/12; df = (17/12)² / ((4/3)²/2 + (1/12)²/3) = 867/385.
      expect(welchDegreesOfFreedom(before, after)).toBeCloseTo(867 / 385, 12);
    });

    it('compares [2,4,6] with [1,1,2,2]: -2.5, interval with the t quantile of df 2.2519', () => {
      // Means 4 -> 1.5; SE = sqrt(4/3 + 1/12) = sqrt(17/12) = 1.190238; t(0.975, 2.251948) = 3.872713 (bisection of
      // the t CDF; between the table's 4.303 at df=2 and 3.182 at df=3); CI = -2.5 ± 4.609470.
      const result = compareMeans(before, after);
      expect(result).toMatchObject({ before: 4, after: 1.5, difference: -2.5, nBefore: 3, nAfter: 4, significant: false });
      expect(result.ci95!.low).toBeCloseTo(-7.109470, 5);
      expect(result.ci95!.high).toBeCloseTo(2.109470, 5);
    });

    it('gives a zero-width interval when neither side varies', () => {
      const result = compareMeans({ n: 2, sum: 6, sumOfSquares: 18 }, { n: 3, sum: 6, sumOfSquares: 12 });
      expect(result).toMatchObject({ before: 3, after: 2, difference: -1, ci95: { low: -1, high: -1 }, significant: true });
    });
  });
});
