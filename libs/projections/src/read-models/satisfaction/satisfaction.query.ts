import { CES_LOW_EFFORT_MAX, CSAT_SATISFIED_MIN } from '@cx/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { type FieldError, rounded, single, type TimeWindow, timeWindow } from './query-params.js';

export const intervals = ['day', 'week', 'month'] as const;
export type Interval = (typeof intervals)[number];

/** The dimensions a satisfaction query can group by, and their columns (the same in both fact tables). */
const groupColumns = { kind: 'kind', channel: 'channel', channelGroup: 'channel_group', area: 'area' } as const;
export type GroupField = keyof typeof groupColumns;
export const groupFields = Object.keys(groupColumns) as GroupField[];

export type SatisfactionQuery = TimeWindow & { interval: Interval; groupBy: readonly GroupField[] };

export type SatisfactionRow = {
  /** Start of the UTC day, ISO week (Monday) or month. */
  bucket: string;
  kind?: string | null;
  channel?: string | null;
  channelGroup?: string | null;
  area?: string | null;
  /** NPS answers. */
  responses: number;
  promoters: number;
  passives: number;
  detractors: number;
  /** %promoters - %detractors, one decimal; null without an NPS answer. */
  nps: number | null;
  csatResponses: number;
  /** Share of CSAT answers of 4-5, in percent, one decimal. */
  csatPct: number | null;
  cesResponses: number;
  /** Two decimals. */
  cesMean: number | null;
  /** Share of CES answers of 1-3 (low effort), in percent, one decimal. */
  cesLowEffortPct: number | null;
  moments: number;
  /** Percentiles (continuous) of waitSeconds over the moments that recorded a wait, one decimal. */
  waitP50: number | null;
  waitP90: number | null;
  /** Among moments that waited (waitSeconds > 0) and said whether the wait was explained: the share explained. */
  waitExplainedPct: number | null;
};

/** Validates the query string of `GET /v1/metrics/satisfaction`; problems go to `errors`. */
export function parseSatisfactionQuery(query: Record<string, unknown>, now: Date, errors: FieldError[]): SatisfactionQuery {
  const window = timeWindow(query, now, errors);
  const rawInterval = single(query, 'interval', errors) ?? 'day';
  const interval = (intervals as readonly string[]).includes(rawInterval) ? (rawInterval as Interval) : 'day';
  if (interval !== rawInterval) errors.push({ field: 'interval', message: `must be one of ${intervals.join(', ')}` });
  const groupBy: GroupField[] = [];
  for (const name of (single(query, 'groupBy', errors) ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(groupFields as string[]).includes(name)) {
      errors.push({ field: 'groupBy', message: `unknown field ${JSON.stringify(name)}: groupBy takes any of ${groupFields.join(', ')}, comma-separated` });
    } else if (!groupBy.includes(name as GroupField)) {
      groupBy.push(name as GroupField);
    }
  }
  return { ...window, interval, groupBy };
}

type Aggregate = {
  bucket: Date;
  kind?: string | null;
  channel?: string | null;
  channel_group?: string | null;
  area?: string | null;
  responses: number;
  promoters: number;
  passives: number;
  detractors: number;
  csat_responses: number;
  csat_satisfied: number;
  ces_responses: number;
  ces_mean: number | null;
  ces_low_effort: number;
  moments: number;
  wait_p50: number | null;
  wait_p90: number | null;
  waited: number;
  waited_explained: number;
};

const percent = (part: number, whole: number): number | null => (whole === 0 ? null : (100 * part) / whole);

/**
 * Answers are counted in the bucket of their `submittedAt`, moments in that of their `occurredAt`.
 * Both fact tables are read in one pass (UNION ALL), so every row carries answers and moments
 * of the same bucket and group.
 */
export async function querySatisfaction(db: DataSource | EntityManager, query: SatisfactionQuery): Promise<SatisfactionRow[]> {
  const columns = query.groupBy.map((field) => groupColumns[field]);
  const keys = ['bucket', ...columns].join(', ');
  const order = ['bucket', ...columns.map((c) => `${c} NULLS LAST`)].join(', ');
  const rows: Aggregate[] = await db.query(
    `WITH facts AS (
       SELECT date_trunc($3::text, f.submitted_at, 'UTC') AS bucket, f.kind, f.channel, f.channel_group, f.area,
              f.nps, f.csat, f.ces, NULL::double precision AS wait_seconds, NULL::boolean AS wait_explained, 0 AS moment
         FROM rm_feedback f
        WHERE f.submitted_at >= $1 AND f.submitted_at < $2
       UNION ALL
       SELECT date_trunc($3::text, m.occurred_at, 'UTC'), m.kind, m.channel, m.channel_group, m.area,
              NULL, NULL, NULL, m.wait_seconds, m.wait_explained, 1
         FROM rm_moments m
        WHERE m.occurred_at >= $1 AND m.occurred_at < $2
     )
     SELECT ${keys},
            count(nps)::int                                         AS responses,
            count(*) FILTER (WHERE nps >= 9)::int                   AS promoters,
            count(*) FILTER (WHERE nps BETWEEN 7 AND 8)::int        AS passives,
            count(*) FILTER (WHERE nps <= 6)::int                   AS detractors,
            count(csat)::int                                        AS csat_responses,
            count(*) FILTER (WHERE csat >= $4)::int                 AS csat_satisfied,
            count(ces)::int                                         AS ces_responses,
            avg(ces)::double precision                              AS ces_mean,
            count(*) FILTER (WHERE ces <= $5)::int                  AS ces_low_effort,
            sum(moment)::int                                        AS moments,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_seconds) AS wait_p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY wait_seconds) AS wait_p90,
            count(*) FILTER (WHERE wait_seconds > 0 AND wait_explained IS NOT NULL)::int AS waited,
            count(*) FILTER (WHERE wait_seconds > 0 AND wait_explained)::int             AS waited_explained
       FROM facts
      GROUP BY ${keys}
      ORDER BY ${order}`,
    [query.from.toISOString(), query.to.toISOString(), query.interval, CSAT_SATISFIED_MIN, CES_LOW_EFFORT_MAX],
  );
  return rows.map((row) => {
    const groups: Partial<Record<GroupField, string | null>> = {};
    for (const field of query.groupBy) groups[field] = (row[groupColumns[field]] as string | null | undefined) ?? null;
    return {
      bucket: new Date(row.bucket).toISOString(),
      ...groups,
      responses: row.responses,
      promoters: row.promoters,
      passives: row.passives,
      detractors: row.detractors,
      nps: rounded(percent(row.promoters - row.detractors, row.responses), 1),
      csatResponses: row.csat_responses,
      csatPct: rounded(percent(row.csat_satisfied, row.csat_responses), 1),
      cesResponses: row.ces_responses,
      cesMean: rounded(row.ces_mean, 2),
      cesLowEffortPct: rounded(percent(row.ces_low_effort, row.ces_responses), 1),
      moments: row.moments,
      waitP50: rounded(row.wait_p50, 1),
      waitP90: rounded(row.wait_p90, 1),
      waitExplainedPct: rounded(percent(row.waited_explained, row.waited), 1),
    };
  });
}
