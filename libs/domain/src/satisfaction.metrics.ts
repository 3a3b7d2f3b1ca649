import { validate, optionalIntegerIn } from './validation.js';

export const scoreRanges = {
  nps: { min: 0, max: 10 },
  csat: { min: 1, max: 5 },
  ces: { min: 1, max: 7 },
} as const;

export type NpsCategory = 'promoter' | 'passive' | 'detractor';

/** Promoters answer 9-10, passives 7-8, detractors 0-6. */
export function npsCategory(score: number): NpsCategory {
  validate(optionalIntegerIn('nps', score, scoreRanges.nps.min, scoreRanges.nps.max));
  if (score >= 9) return 'promoter';
  if (score >= 7) return 'passive';
  return 'detractor';
}

/** CSAT answers of 4 and 5 count as satisfied. */
export const CSAT_SATISFIED_MIN = 4;
/** CES answers of 1-3 (below the midpoint of 1-7) count as low effort. */
export const CES_LOW_EFFORT_MAX = 3;

/**
 * Running counts from which every metric follows. Projections keep these in their rows and add
 * answers one at a time (or add tallies to roll buckets up); the metrics are computed on read.
 */
export type SatisfactionTally = {
  promoters: number;
  passives: number;
  detractors: number;
  csatAnswers: number;
  csatSatisfied: number;
  cesAnswers: number;
  cesSum: number;
  cesLowEffort: number;
};

export const emptyTally: SatisfactionTally = Object.freeze({
  promoters: 0,
  passives: 0,
  detractors: 0,
  csatAnswers: 0,
  csatSatisfied: 0,
  cesAnswers: 0,
  cesSum: 0,
  cesLowEffort: 0,
});

export type Scores = { nps?: number; csat?: number; ces?: number };

/** The tally with one answer added. Throws DomainValidationError for a score out of its range. */
export function tallyAnswer(tally: SatisfactionTally, scores: Scores): SatisfactionTally {
  const { nps, csat, ces } = scores;
  validate(
    optionalIntegerIn('nps', nps, scoreRanges.nps.min, scoreRanges.nps.max),
    optionalIntegerIn('csat', csat, scoreRanges.csat.min, scoreRanges.csat.max),
    optionalIntegerIn('ces', ces, scoreRanges.ces.min, scoreRanges.ces.max),
  );
  const category = nps === undefined ? undefined : npsCategory(nps);
  return {
    promoters: tally.promoters + (category === 'promoter' ? 1 : 0),
    passives: tally.passives + (category === 'passive' ? 1 : 0),
    detractors: tally.detractors + (category === 'detractor' ? 1 : 0),
    csatAnswers: tally.csatAnswers + (csat === undefined ? 0 : 1),
    csatSatisfied: tally.csatSatisfied + (csat !== undefined && csat >= CSAT_SATISFIED_MIN ? 1 : 0),
    cesAnswers: tally.cesAnswers + (ces === undefined ? 0 : 1),
    cesSum: tally.cesSum + (ces ?? 0),
    cesLowEffort: tally.cesLowEffort + (ces !== undefined && ces <= CES_LOW_EFFORT_MAX ? 1 : 0),
  };
}

export function addTallies(a: SatisfactionTally, b: SatisfactionTally): SatisfactionTally {
  return {
    promoters: a.promoters + b.promoters,
    passives: a.passives + b.passives,
    detractors: a.detractors + b.detractors,
    csatAnswers: a.csatAnswers + b.csatAnswers,
    csatSatisfied: a.csatSatisfied + b.csatSatisfied,
    cesAnswers: a.cesAnswers + b.cesAnswers,
    cesSum: a.cesSum + b.cesSum,
    cesLowEffort: a.cesLowEffort + b.cesLowEffort,
  };
}

/** Unrounded; `null` where there is no answer to measure. */
export type SatisfactionMetrics = {
  npsAnswers: number;
  /** %promoters - %detractors, from -100 to 100. */
  nps: number | null;
  csatAnswers: number;
  /** Share of satisfied answers (4-5), 0-100. */
  csatPercent: number | null;
  cesAnswers: number;
  cesMean: number | null;
  /** Share of low-effort answers (1-3), 0-100. */
  cesLowEffortPercent: number | null;
};

const percent = (part: number, whole: number): number | null => (whole === 0 ? null : (100 * part) / whole);

export function satisfactionMetrics(tally: SatisfactionTally): SatisfactionMetrics {
  const npsAnswers = tally.promoters + tally.passives + tally.detractors;
  return {
    npsAnswers,
    nps: percent(tally.promoters - tally.detractors, npsAnswers),
    csatAnswers: tally.csatAnswers,
    csatPercent: percent(tally.csatSatisfied, tally.csatAnswers),
    cesAnswers: tally.cesAnswers,
    cesMean: tally.cesAnswers === 0 ? null : tally.cesSum / tally.cesAnswers,
    cesLowEffortPercent: percent(tally.cesLowEffort, tally.cesAnswers),
  };
}

/** Metrics of a list of answers, each with any of nps, csat, ces. */
export function measureSatisfaction(answers: readonly Scores[]): SatisfactionMetrics {
  return satisfactionMetrics(answers.reduce(tallyAnswer, emptyTally));
}

export const netPromoterScore = (npsScores: readonly number[]): number | null =>
  measureSatisfaction(npsScores.map((nps) => ({ nps }))).nps;

export const csatPercent = (csatScores: readonly number[]): number | null =>
  measureSatisfaction(csatScores.map((csat) => ({ csat }))).csatPercent;

export const cesMean = (cesScores: readonly number[]): number | null =>
  measureSatisfaction(cesScores.map((ces) => ({ ces }))).cesMean;

export const cesLowEffortPercent = (cesScores: readonly number[]): number | null =>
  measureSatisfaction(cesScores.map((ces) => ({ ces }))).cesLowEffortPercent;
