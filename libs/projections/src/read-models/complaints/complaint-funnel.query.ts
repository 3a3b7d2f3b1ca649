import type { DataSource, EntityManager } from 'typeorm';
import { type FieldError, rounded, single, type TimeWindow, timeWindow } from '../satisfaction/query-params.js';

export const funnelStages = ['filed', 'acknowledged', 'routed', 'resolved', 'confirmed'] as const;
export type FunnelStage = (typeof funnelStages)[number];

const groupColumns = { category: 'category', channel: 'channel', area: 'area' } as const;
export type FunnelGroup = keyof typeof groupColumns;
export const funnelGroups = Object.keys(groupColumns) as FunnelGroup[];

export type FunnelQuery = TimeWindow & { groupBy: FunnelGroup | null };

export type StageFigures = {
  stage: FunnelStage;
  /** Complaints filed in the window that reached this stage (by now). */
  count: number;
  /** count / count of the previous stage, 0..1 with 4 decimals; null for `filed` or after an empty stage. */
  conversionFromPrevious: number | null;
  /** count / filed, 0..1 with 4 decimals; null when nothing was filed. */
  conversionFromFiled: number | null;
  /** Median of (first time at this stage - filedAt) in seconds, one decimal; null for `filed` and when none reached it. */
  medianSecondsFromFiling: number | null;
};

export type Funnel = {
  stages: StageFigures[];
  /** Complaints reopened at least once, and reopen events in all. */
  reopened: { complaints: number; events: number };
};

export type SilentDissatisfaction = {
  /** Customers with a negative signal in the window who filed no complaint in it. */
  customers: number;
  /** Why, per silent customer; one customer can have several reasons, so these may add up to more. */
  reasons: { detractor: number; lowCsat: number; negativeMoment: number };
  /** Customers with any negative signal in the window, silent or not. */
  dissatisfiedCustomers: number;
  /** Of those, the ones who did file a complaint in the window. */
  complainedCustomers: number;
  /** customers / dissatisfiedCustomers, 0..1 with 4 decimals; null when nobody was dissatisfied. */
  silentShare: number | null;
};

/** One funnel per value of the groupBy field (`category`, `channel` or `area`), which it carries. */
export type GroupFunnel = Funnel & Partial<Record<FunnelGroup, string | null>>;

export type FunnelResult = { from: string; to: string; silentDissatisfaction: SilentDissatisfaction } & (
  | (Funnel & { groupBy: null })
  | { groupBy: FunnelGroup; funnels: GroupFunnel[] }
);

export function parseFunnelQuery(query: Record<string, unknown>, now: Date, errors: FieldError[]): FunnelQuery {
  const window = timeWindow(query, now, errors);
  const raw = single(query, 'groupBy', errors);
  if (raw !== undefined && !(funnelGroups as string[]).includes(raw)) {
    errors.push({ field: 'groupBy', message: `must be one of ${funnelGroups.join(', ')}` });
  }
  return { ...window, groupBy: raw !== undefined && (funnelGroups as string[]).includes(raw) ? (raw as FunnelGroup) : null };
}

type FunnelRow = {
  group_value?: string | null;
  filed: number;
  acknowledged: number;
  routed: number;
  resolved: number;
  confirmed: number;
  acknowledged_median: number | null;
  routed_median: number | null;
  resolved_median: number | null;
  confirmed_median: number | null;
  reopened_complaints: number;
  reopen_events: number;
};

const fraction = (part: number, whole: number): number | null => (whole === 0 ? null : rounded(part / whole, 4));

function funnelOf(row: FunnelRow): Funnel {
  const stages = funnelStages.map((stage, index): StageFigures => {
    const count = row[stage];
    const previous = index === 0 ? null : row[funnelStages[index - 1]];
    return {
      stage,
      count,
      conversionFromPrevious: previous === null ? null : fraction(count, previous),
      conversionFromFiled: fraction(count, row.filed),
      medianSecondsFromFiling: stage === 'filed' ? null : rounded(row[`${stage}_median`], 1),
    };
  });
  return { stages, reopened: { complaints: row.reopened_complaints, events: row.reopen_events } };
}

const secondsToMedian = (column: string) =>
  `percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ${column} - filed_at)::double precision)`;

/**
 * The complaint funnel of the complaints filed in [from, to): how many reached each stage by now,
 * the conversions, the median time from filing to each stage, reopenings; and the silent
 * dissatisfaction of the same window, read from the satisfaction facts.
 */
export async function queryComplaintFunnel(db: DataSource | EntityManager, query: FunnelQuery): Promise<FunnelResult> {
  const group = query.groupBy ? groupColumns[query.groupBy] : null;
  const params = [query.from.toISOString(), query.to.toISOString()];
  const rows: FunnelRow[] = await db.query(
    `SELECT ${group ? `${group} AS group_value,` : ''}
            count(*)::int               AS filed,
            count(acknowledged_at)::int AS acknowledged,
            count(routed_at)::int       AS routed,
            count(resolved_at)::int     AS resolved,
            count(confirmed_at)::int    AS confirmed,
            ${secondsToMedian('acknowledged_at')} AS acknowledged_median,
            ${secondsToMedian('routed_at')}       AS routed_median,
            ${secondsToMedian('resolved_at')}     AS resolved_median,
            ${secondsToMedian('confirmed_at')}    AS confirmed_median,
            count(*) FILTER (WHERE reopened_count > 0)::int AS reopened_complaints,
            coalesce(sum(reopened_count), 0)::int           AS reopen_events
       FROM rm_complaints
      WHERE filed_at >= $1 AND filed_at < $2
      ${group ? `GROUP BY ${group} ORDER BY ${group} IS NULL, count(*) DESC, ${group}` : ''}`,
    params,
  );
  const silentDissatisfaction = await querySilentDissatisfaction(db, query);
  const window = { from: params[0], to: params[1] };
  if (!query.groupBy) return { ...window, groupBy: null, ...funnelOf(rows[0]), silentDissatisfaction };
  const field = query.groupBy;
  return {
    ...window,
    groupBy: field,
    funnels: rows.map((row) => ({ [field]: row.group_value ?? null, ...funnelOf(row) })),
    silentDissatisfaction,
  };
}

type SilentRow = {
  dissatisfied: number;
  silent: number;
  detractor: number;
  low_csat: number;
  negative_moment: number;
};

/**
 * Customers with a detractor answer (NPS 0-6), a CSAT of 1-2, or a moment with a negative outcome,
 * answered or recorded in [from, to), who filed no complaint in [from, to).
 */
export async function querySilentDissatisfaction(db: DataSource | EntityManager, window: TimeWindow): Promise<SilentDissatisfaction> {
  const [row]: SilentRow[] = await db.query(
    `WITH signals AS (
       SELECT customer_id, coalesce(nps <= 6, false) AS detractor, coalesce(csat <= 2, false) AS low_csat, false AS negative_moment
         FROM rm_feedback
        WHERE submitted_at >= $1 AND submitted_at < $2 AND (nps <= 6 OR csat <= 2)
       UNION ALL
       SELECT customer_id, false, false, true
         FROM rm_moments
        WHERE occurred_at >= $1 AND occurred_at < $2 AND outcome = 'negative'
     ), dissatisfied AS (
       SELECT customer_id, bool_or(detractor) AS detractor, bool_or(low_csat) AS low_csat, bool_or(negative_moment) AS negative_moment
         FROM signals
        GROUP BY customer_id
     ), complained AS (
       SELECT DISTINCT customer_id FROM rm_complaints WHERE filed_at >= $1 AND filed_at < $2
     )
     SELECT count(*)::int                                                          AS dissatisfied,
            count(*) FILTER (WHERE c.customer_id IS NULL)::int                     AS silent,
            count(*) FILTER (WHERE c.customer_id IS NULL AND d.detractor)::int       AS detractor,
            count(*) FILTER (WHERE c.customer_id IS NULL AND d.low_csat)::int        AS low_csat,
            count(*) FILTER (WHERE c.customer_id IS NULL AND d.negative_moment)::int AS negative_moment
       FROM dissatisfied d
       LEFT JOIN complained c ON c.customer_id = d.customer_id`,
    [window.from.toISOString(), window.to.toISOString()],
  );
  return {
    customers: row.silent,
    reasons: { detractor: row.detractor, lowCsat: row.low_csat, negativeMoment: row.negative_moment },
    dissatisfiedCustomers: row.dissatisfied,
    complainedCustomers: row.dissatisfied - row.silent,
    silentShare: fraction(row.silent, row.dissatisfied),
  };
}
