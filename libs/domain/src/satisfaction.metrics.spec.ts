import { DomainValidationError } from './domain.errors.js';
import {
  addTallies,
  cesLowEffortPercent,
  cesMean,
  csatPercent,
  emptyTally,
  measureSatisfaction,
  netPromoterScore,
  npsCategory,
  type SatisfactionTally,
  satisfactionMetrics,
  tallyAnswer,
} from './satisfaction.metrics.js';

describe('NPS', () => {
  it.each([
    [0, 'detractor'],
    [3, 'detractor'],
    [6, 'detractor'],
    [7, 'passive'],
    [8, 'passive'],
    [9, 'promoter'],
    [10, 'promoter'],
  ] as const)('classifies %i as a %s', (score, category) => {
    expect(npsCategory(score)).toBe(category);
  });

  it.each([-1, 11, 8.5, Number.NaN])('refuses to classify %p', (score) => {
    expect(() => npsCategory(score)).toThrow(DomainValidationError);
  });

  it.each([
    // 5 promoters (10,10,10,9,10), 2 passives (8,7), 3 detractors (3,0,5) of 10: 50% - 30% = 20
    [[10, 10, 10, 9, 8, 3, 0, 5, 7, 10], 20],
    [[9, 10, 9], 100],
    [[0, 6], -100],
    [[7, 8, 7], 0],
    // 1 promoter, 1 detractor, 2 passives: 25% - 25%
    [[10, 2, 7, 8], 0],
    // 2 promoters, 1 detractor of 3: 66.67% - 33.33% = 33.33
    [[10, 9, 6], 100 / 3],
    // 1 promoter, 2 detractors of 4 (one passive): 25% - 50% = -25
    [[9, 1, 6, 7], -25],
  ])('scores %j as %d', (scores, expected) => {
    expect(netPromoterScore(scores)).toBeCloseTo(expected, 10);
  });

  it('has no score without answers', () => {
    expect(netPromoterScore([])).toBeNull();
  });
});

describe('CSAT', () => {
  it.each([
    [[5, 4, 3, 2, 1], 40],
    [[4, 4, 5, 2], 75],
    [[5], 100],
    [[3, 3, 1], 0],
    // 2 of 3 satisfied
    [[4, 3, 5], 200 / 3],
  ])('counts 4 and 5 as satisfied: %j is %d%', (scores, expected) => {
    expect(csatPercent(scores)).toBeCloseTo(expected, 10);
  });

  it('has no score without answers, and rejects answers out of 1-5', () => {
    expect(csatPercent([])).toBeNull();
    expect(() => csatPercent([4, 0])).toThrow(DomainValidationError);
    expect(() => csatPercent([6])).toThrow(DomainValidationError);
  });
});

describe('CES', () => {
  it.each([
    // (1+2+3+7)/4 = 3.25; 1, 2, 3 are low effort: 75%
    [[1, 2, 3, 7], 3.25, 75],
    // (4+5+6)/3 = 5; none low effort
    [[4, 5, 6], 5, 0],
    [[1], 1, 100],
    // (2+4)/2 = 3; one of two low effort
    [[2, 4], 3, 50],
  ])('%j has a mean of %d and %d% low-effort answers', (scores, mean, lowEffort) => {
    expect(cesMean(scores)).toBeCloseTo(mean, 10);
    expect(cesLowEffortPercent(scores)).toBeCloseTo(lowEffort, 10);
  });

  it('has no score without answers, and rejects answers out of 1-7', () => {
    expect(cesMean([])).toBeNull();
    expect(cesLowEffortPercent([])).toBeNull();
    expect(() => cesMean([8])).toThrow(DomainValidationError);
  });
});

describe('satisfaction tally', () => {
  const answers = [{ nps: 10, csat: 5 }, { nps: 4, ces: 6 }, { csat: 2, ces: 2 }, { nps: 8, csat: 4, ces: 1 }];
  const tally: SatisfactionTally = {
    promoters: 1,
    passives: 1,
    detractors: 1,
    csatAnswers: 3,
    csatSatisfied: 2,
    cesAnswers: 3,
    cesSum: 9,
    cesLowEffort: 2,
  };

  it('counts answers with any mix of measures', () => {
    expect(answers.reduce(tallyAnswer, emptyTally)).toEqual(tally);
  });

  it('computes every metric from the counts', () => {
    expect(satisfactionMetrics(tally)).toEqual({
      npsAnswers: 3,
      nps: 0,
      csatAnswers: 3,
      csatPercent: 200 / 3,
      cesAnswers: 3,
      cesMean: 3,
      cesLowEffortPercent: 200 / 3,
    });
    expect(measureSatisfaction(answers)).toEqual(satisfactionMetrics(tally));
  });

  it('reports null for each measure nobody answered', () => {
    expect(measureSatisfaction([{ nps: 9 }])).toEqual({
      npsAnswers: 1,
      nps: 100,
      csatAnswers: 0,
      csatPercent: null,
      cesAnswers: 0,
      cesMean: null,
      cesLowEffortPercent: null,
    });
  });

  it('rolls tallies up to the tally of all their answers', () => {
    const first = answers.slice(0, 2).reduce(tallyAnswer, emptyTally);
    const second = answers.slice(2).reduce(tallyAnswer, emptyTally);
    expect(addTallies(first, second)).toEqual(tally);
    expect(addTallies(emptyTally, tally)).toEqual(tally);
  });

  it('does not change the tally it adds to', () => {
    const before = { ...tally };
    tallyAnswer(tally, { nps: 10 });
    expect(tally).toEqual(before);
    expect(emptyTally.promoters).toBe(0);
  });

  it('names the measure out of range', () => {
    expect(() => tallyAnswer(emptyTally, { ces: 0 })).toThrow(expect.objectContaining({ field: 'ces' }));
  });
});
