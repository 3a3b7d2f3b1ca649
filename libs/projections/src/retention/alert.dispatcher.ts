import { type RetentionAlertRaised, retentionStreamId, type Tier } from '@cx/domain';
import type { EventStore, EventToAppend, StreamAppend } from '@cx/event-store';
import type { Pool } from 'pg';
import { slaReason } from '../read-models/customer-360/customer-360.fold.js';
import { RETENTION_ALERT_RAISED } from './episode.policy.js';
import { waitUntilCaughtUp } from './read-model.gate.js';
import { RETENTION_EPISODES } from './retention-episodes.projection.js';
import type { RetentionConfig } from './retention.config.js';
import { alertEventId, episodeIdOf } from './retention.ids.js';

const HOUR_MS = 3_600_000;
const PAGE = 500;

export type AlertSent = {
  customerId: string;
  episode: number;
  episodeId: string;
  tier: Tier;
  reasons: string[];
  raisedAt: string;
  openedBy: 'event' | 'sla-check';
  /** `duplicate`: this alert was already in the log (a re-run, another process, a rebuild): nothing new was appended. */
  status: 'appended' | 'duplicate';
  position: string;
};

type Alert = { event: EventToAppend & { data: RetentionAlertRaised['data'] }; openedBy: AlertSent['openedBy'] };

type OutboxRow = {
  customerId: string;
  episode: number;
  tier: Tier;
  reasons: string[];
  raisedAt: Date;
  triggerEventId: string;
  triggerCorrelationId: string | null;
};

type DueRow = { customerId: string; tier: Tier; episodes: number; signalReasons: string[]; complaintId: string; severity: string; stage: string; dueAt: Date };

function alertOf(customerId: string, episode: number, tier: Tier, reasons: string[], raisedAt: string, metadata: EventToAppend['metadata']) {
  return {
    id: alertEventId(customerId, episode),
    type: RETENTION_ALERT_RAISED,
    data: { customerId, episode, episodeId: episodeIdOf(customerId, episode), reasons, tier, raisedAt },
    metadata,
  };
}

/**
 * The acting half of the retention saga. Sends the alerts the `retentionEpisodes` fold has due
 * (its outbox), and raises the alerts that only the passing of time brings: a complaint of an A or
 * B customer outside an episode that went past its SLA with no event since. Every alert has the
 * id of its customer and episode number, so whatever appends it first, a second append (a re-run,
 * a second process, the outbox after the SLA check, a rebuild) is a duplicate the store ignores.
 */
export class AlertDispatcher {
  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly config: Pick<RetentionConfig, 'alertMaxAgeHours'>,
  ) {}

  /** One round: outbox, then SLA check, on a read model that has caught up with the log (else ReadModelBehindError). */
  async run(now: Date, options: { waitMs?: number } = {}): Promise<AlertSent[]> {
    await waitUntilCaughtUp(this.store, this.pool, [RETENTION_EPISODES], options.waitMs ?? 5_000);
    return [...(await this.sendOutbox(now)), ...(await this.checkSla(now))];
  }

  /** Appends the alert of every episode the fold opened and the log does not show yet, unless it began too long before `now`. */
  async sendOutbox(now: Date): Promise<AlertSent[]> {
    const maxAge = this.config.alertMaxAgeHours;
    let cursor: [string, string, number] = [maxAge > 0 ? new Date(now.getTime() - maxAge * HOUR_MS).toISOString() : '-infinity', '', 0];
    const sent: AlertSent[] = [];
    for (;;) {
      const { rows } = await this.pool.query<OutboxRow>(
        `SELECT customer_id AS "customerId", episode, tier, reasons, raised_at AS "raisedAt", trigger_event_id AS "triggerEventId",
                trigger_correlation_id AS "triggerCorrelationId"
           FROM rm_retention_episodes
          WHERE alert_position IS NULL AND (raised_at, customer_id, episode) > ($1::timestamptz, $2::text, $3::integer)
          ORDER BY raised_at, customer_id, episode
          LIMIT ${PAGE}`,
        cursor,
      );
      if (rows.length === 0) return sent;
      const alerts = rows.map((row) => ({
        openedBy: 'event' as const,
        event: alertOf(row.customerId, row.episode, row.tier, row.reasons, new Date(row.raisedAt).toISOString(), {
          correlationId: row.triggerCorrelationId ?? `retention:${row.customerId}`,
          causationId: row.triggerEventId,
        }),
      }));
      sent.push(...(await this.append(alerts)));
      const last = rows[rows.length - 1];
      cursor = [new Date(last.raisedAt).toISOString(), last.customerId, last.episode];
      if (rows.length < PAGE) return sent;
    }
  }

  /**
   * A and B customers outside an episode with a complaint unresolved past its SLA at `now`: the
   * fold sees that only at the customer's next event, so the clock looks here. The alert opens
   * the next episode; its reasons are customer 360's at `now`.
   */
  async checkSla(now: Date): Promise<AlertSent[]> {
    const { rows } = await this.pool.query<DueRow>(
      `SELECT c.customer_id AS "customerId", c.tier, c.episodes, c.signal_reasons AS "signalReasons",
              k.complaint_id AS "complaintId", k.severity, k.stage, k.due_at AS "dueAt"
         FROM rm_retention_customers c
         JOIN rm_retention_complaints k ON k.customer_id = c.customer_id
        WHERE NOT c.episode_open AND c.tier IN ('A', 'B') AND c.next_sla_due_at IS NOT NULL AND c.next_sla_due_at < $1
          AND k.stage IN ('filed', 'acknowledged', 'routed') AND k.due_at < $1
        ORDER BY c.customer_id, k.due_at, k.complaint_id`,
      [now.toISOString()],
    );
    const byCustomer = new Map<string, { row: DueRow; reasons: string[] }>();
    for (const row of rows) {
      const entry = byCustomer.get(row.customerId) ?? { row, reasons: [...row.signalReasons] };
      const reason = slaReason({ ...row, dueAt: new Date(row.dueAt).getTime() }, now.getTime());
      if (reason) entry.reasons.push(reason);
      byCustomer.set(row.customerId, entry);
    }
    const raisedAt = now.toISOString();
    const alerts = [...byCustomer.values()]
      .filter(({ reasons }) => reasons.length > 0)
      .map(({ row, reasons }) => ({
        openedBy: 'sla-check' as const,
        event: alertOf(row.customerId, row.episodes + 1, row.tier, reasons, raisedAt, { correlationId: `retention-sla-check:${raisedAt}` }),
      }));
    return this.append(alerts);
  }

  private async append(alerts: readonly Alert[]): Promise<AlertSent[]> {
    const sent: AlertSent[] = [];
    for (let i = 0; i < alerts.length; i += PAGE) {
      const page = alerts.slice(i, i + PAGE);
      const byStream = new Map<string, Alert[]>();
      for (const alert of page) {
        const streamId = retentionStreamId(alert.event.data.customerId);
        byStream.set(streamId, [...(byStream.get(streamId) ?? []), alert]);
      }
      const appends: StreamAppend[] = [...byStream].map(([streamId, list]) => ({ streamId, events: list.map((a) => a.event), expectedVersion: 'any' }));
      const results = await this.store.appendMany(appends);
      results.forEach((result, n) => {
        const list = byStream.get(appends[n].streamId)!;
        result.events.forEach((appended, k) => {
          const { data } = list[k].event;
          sent.push({ ...data, reasons: [...data.reasons], openedBy: list[k].openedBy, status: appended.status, position: appended.position.toString() });
        });
      });
    }
    return sent;
  }
}
