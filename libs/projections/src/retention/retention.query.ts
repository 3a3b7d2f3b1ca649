import type { Tier } from '@cx/domain';
import type { Pool } from 'pg';
import { type FieldError, single } from '../read-models/satisfaction/query-params.js';

export const EPISODES_DEFAULT_LIMIT = 100;
export const EPISODES_MAX_LIMIT = 500;

export type EpisodeQuery = { customerId?: string; open?: boolean; limit: number };

export type EpisodeView = {
  customerId: string;
  episode: number;
  episodeId: string;
  tier: Tier;
  reasons: string[];
  raisedAt: string;
  openedBy: 'event' | 'sla-check';
  /** The `retention.alert-raised.v1` of the episode: its id, and its log position once it is in the log. */
  alert: { eventId: string; position: string | null };
  endedAt: string | null;
};

/** `customerId`, `open` (true|false), `limit` (1-500, default 100). */
export function parseEpisodeQuery(query: Record<string, unknown>): { query: EpisodeQuery } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const customerId = single(query, 'customerId', errors);
  const open = single(query, 'open', errors);
  const limit = single(query, 'limit', errors);
  if (open !== undefined && open !== 'true' && open !== 'false') errors.push({ field: 'open', message: 'must be true or false' });
  const parsedLimit = limit === undefined ? EPISODES_DEFAULT_LIMIT : /^\d{1,3}$/.test(limit) ? Number(limit) : Number.NaN;
  if (!(parsedLimit >= 1 && parsedLimit <= EPISODES_MAX_LIMIT)) errors.push({ field: 'limit', message: `must be an integer from 1 to ${EPISODES_MAX_LIMIT}` });
  if (errors.length > 0) return { errors };
  return {
    query: { ...(customerId === undefined ? {} : { customerId }), ...(open === undefined ? {} : { open: open === 'true' }), limit: parsedLimit },
  };
}

/** Risk episodes, the latest first. */
export async function listEpisodes(pool: Pool, query: EpisodeQuery): Promise<EpisodeView[]> {
  const { rows } = await pool.query<{
    customerId: string;
    episode: number;
    episodeId: string;
    alertEventId: string;
    tier: Tier;
    reasons: string[];
    raisedAt: Date;
    openedBy: 'event' | 'sla-check';
    alertPosition: string | null;
    endedAt: Date | null;
  }>(
    `SELECT customer_id AS "customerId", episode, episode_id AS "episodeId", alert_event_id AS "alertEventId", tier, reasons,
            raised_at AS "raisedAt", opened_by AS "openedBy", alert_position::text AS "alertPosition", ended_at AS "endedAt"
       FROM rm_retention_episodes
      WHERE ($1::text IS NULL OR customer_id = $1) AND ($2::boolean IS NULL OR (ended_at IS NULL) = $2)
      ORDER BY raised_at DESC, customer_id, episode DESC
      LIMIT $3`,
    [query.customerId ?? null, query.open ?? null, query.limit],
  );
  return rows.map((r) => ({
    customerId: r.customerId,
    episode: r.episode,
    episodeId: r.episodeId,
    tier: r.tier,
    reasons: r.reasons,
    raisedAt: new Date(r.raisedAt).toISOString(),
    openedBy: r.openedBy,
    alert: { eventId: r.alertEventId, position: r.alertPosition },
    endedAt: r.endedAt === null ? null : new Date(r.endedAt).toISOString(),
  }));
}
