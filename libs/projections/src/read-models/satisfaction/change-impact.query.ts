import { CSAT_SATISFIED_MIN } from '@cx/domain';
import type { DataSource, EntityManager } from 'typeorm';
import {
  type Comparison,
  compareMeans,
  compareNps,
  compareProportions,
  type MeanSample,
  type NpsSample,
  type ProportionSample,
} from './change-impact.statistics.js';
import { DAY_MS, rounded } from './query-params.js';

export const DEFAULT_IMPACT_WINDOW_DAYS = 30;
export const MAX_IMPACT_WINDOW_DAYS = 365;

export type Change = {
  id: string;
  name: string;
  effectiveAt: string;
  /** null: every kind. */
  kinds: string[] | null;
  /** null: every channel. */
  channels: string[] | null;
  description: string | null;
  recordedAt: string;
};

/** A comparison as the API shows it: NPS and CSAT% in points with one decimal, CES with two; significance from the unrounded figures. */
export type MetricImpact = Comparison;

export type SegmentImpact = {
  kind: string;
  channel: string;
  channelGroup: string | null;
  nps: MetricImpact;
  csatPct: MetricImpact;
  cesMean: MetricImpact;
};

export type ChangeImpact = {
  change: Change;
  windowDays: number;
  before: { from: string; to: string };
  after: { from: string; to: string };
  /** Whether the after window has ended (otherwise its figures are still growing). */
  afterWindowComplete: boolean;
  segments: SegmentImpact[];
  /** Every answer of the segments above together. */
  overall: Omit<SegmentImpact, 'kind' | 'channel' | 'channelGroup'>;
};

type Samples = { nps: NpsSample; csat: ProportionSample; ces: MeanSample };

const emptySamples = (): Samples => ({
  nps: { promoters: 0, passives: 0, detractors: 0 },
  csat: { n: 0, successes: 0 },
  ces: { n: 0, sum: 0, sumOfSquares: 0 },
});

function add(into: Samples, from: Samples): void {
  into.nps.promoters += from.nps.promoters;
  into.nps.passives += from.nps.passives;
  into.nps.detractors += from.nps.detractors;
  into.csat.n += from.csat.n;
  into.csat.successes += from.csat.successes;
  into.ces.n += from.ces.n;
  into.ces.sum += from.ces.sum;
  into.ces.sumOfSquares += from.ces.sumOfSquares;
}

function shown(comparison: Comparison, digits: number): MetricImpact {
  return {
    ...comparison,
    before: rounded(comparison.before, digits),
    after: rounded(comparison.after, digits),
    difference: rounded(comparison.difference, digits),
    ci95: comparison.ci95 && { low: rounded(comparison.ci95.low, digits) as number, high: rounded(comparison.ci95.high, digits) as number },
  };
}

function impacts(before: Samples, after: Samples) {
  return {
    nps: shown(compareNps(before.nps, after.nps), 1),
    csatPct: shown(compareProportions(before.csat, after.csat), 1),
    cesMean: shown(compareMeans(before.ces, after.ces), 2),
  };
}

type ChangeRecord = {
  change_id: string;
  name: string;
  effective_at: Date;
  kinds: string[] | null;
  channels: string[] | null;
  description: string | null;
  recorded_at: Date;
};

export async function findChange(db: DataSource | EntityManager, id: string): Promise<Change | undefined> {
  const [row]: ChangeRecord[] = await db.query(
    'SELECT change_id, name, effective_at, kinds, channels, description, recorded_at FROM rm_changes WHERE change_id = $1',
    [id],
  );
  if (!row) return undefined;
  return {
    id: row.change_id,
    name: row.name,
    effectiveAt: new Date(row.effective_at).toISOString(),
    kinds: row.kinds,
    channels: row.channels,
    description: row.description,
    recordedAt: new Date(row.recorded_at).toISOString(),
  };
}

type Aggregate = {
  kind: string;
  channel: string;
  channel_group: string | null;
  after: boolean;
  promoters: number;
  passives: number;
  detractors: number;
  csat_n: number;
  csat_ok: number;
  ces_n: number;
  ces_sum: number;
  ces_squares: number;
};

/**
 * NPS, CSAT% and CES of the answers attributed to each (kind, channel) the change touches, in
 * [effectiveAt - window, effectiveAt) against [effectiveAt, effectiveAt + window), by the time
 * the answer was submitted. Answers with no known moment have no kind or channel and are left out.
 */
export async function queryChangeImpact(db: DataSource | EntityManager, change: Change, windowDays: number, now: Date): Promise<ChangeImpact> {
  const effective = new Date(change.effectiveAt).getTime();
  const from = new Date(effective - windowDays * DAY_MS);
  const to = new Date(effective + windowDays * DAY_MS);
  const rows: Aggregate[] = await db.query(
    `SELECT f.kind, f.channel, f.channel_group, f.submitted_at >= $3 AS after,
            count(*) FILTER (WHERE f.nps >= 9)::int             AS promoters,
            count(*) FILTER (WHERE f.nps BETWEEN 7 AND 8)::int  AS passives,
            count(*) FILTER (WHERE f.nps <= 6)::int             AS detractors,
            count(f.csat)::int                                  AS csat_n,
            count(*) FILTER (WHERE f.csat >= $6)::int           AS csat_ok,
            count(f.ces)::int                                   AS ces_n,
            coalesce(sum(f.ces), 0)::double precision           AS ces_sum,
            coalesce(sum(f.ces * f.ces), 0)::double precision   AS ces_squares
       FROM rm_feedback f
      WHERE f.submitted_at >= $1 AND f.submitted_at < $2
        AND f.kind IS NOT NULL
        AND ($4::text[] IS NULL OR f.kind = ANY($4::text[]))
        AND ($5::text[] IS NULL OR f.channel = ANY($5::text[]))
      GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 4`,
    [from.toISOString(), to.toISOString(), change.effectiveAt, change.kinds, change.channels, CSAT_SATISFIED_MIN],
  );

  const segments = new Map<string, { kind: string; channel: string; channelGroup: string | null; before: Samples; after: Samples }>();
  const overall = { before: emptySamples(), after: emptySamples() };
  for (const row of rows) {
    const key = `${row.kind}\u0000${row.channel}`;
    let segment = segments.get(key);
    if (!segment) {
      segment = { kind: row.kind, channel: row.channel, channelGroup: row.channel_group, before: emptySamples(), after: emptySamples() };
      segments.set(key, segment);
    }
    const samples: Samples = {
      nps: { promoters: row.promoters, passives: row.passives, detractors: row.detractors },
      csat: { n: row.csat_n, successes: row.csat_ok },
      ces: { n: row.ces_n, sum: row.ces_sum, sumOfSquares: row.ces_squares },
    };
    add(row.after ? segment.after : segment.before, samples);
    add(row.after ? overall.after : overall.before, samples);
  }

  return {
    change,
    windowDays,
    before: { from: from.toISOString(), to: change.effectiveAt },
    after: { from: change.effectiveAt, to: to.toISOString() },
    afterWindowComplete: now.getTime() >= to.getTime(),
    segments: [...segments.values()].map((s) => ({ kind: s.kind, channel: s.channel, channelGroup: s.channelGroup, ...impacts(s.before, s.after) })),
    overall: impacts(overall.before, overall.after),
  };
}
