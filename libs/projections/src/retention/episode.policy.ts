import { businessTimeOf, complaintEventTypes, type RetentionAlertRaised, type Tier } from '@cx/domain';
import type { RecordedEvent } from '@cx/event-store';
import { applyEvent, type Customer360State, type FoldChanges, riskReasons } from '../read-models/customer-360/customer-360.fold.js';

export const RETENTION_ALERT_RAISED = 'retention.alert-raised.v1';

/** Every stored type that can start or end a risk episode: what customer 360's risk rules read, plus the alerts. */
export const RISK_EVENT_TYPES: readonly string[] = [
  'customer.tier-changed.v1',
  'moment.recorded.v1',
  'feedback.submitted.v1',
  ...complaintEventTypes,
  RETENTION_ALERT_RAISED,
];

/**
 * The event's business time. Never later than when it was recorded: a time in the future (a bad
 * clock upstream) must not make every complaint of the customer look past its SLA.
 */
export function businessTime(event: Pick<RecordedEvent, 'type' | 'data' | 'recordedAt'>): number {
  const recorded = event.recordedAt.getTime();
  return Math.min(businessTimeOf(event.type, event.data) ?? recorded, recorded);
}

export { riskReasons };

/** One customer as the saga sees it: customer 360's risk inputs, its own clock and its episodes. */
export type RetentionCustomer = {
  customerId: string;
  /** Customer 360's fold state; only the fields the risk rules read are kept between batches. */
  risk: Customer360State;
  /** The latest business time among the customer's folded events: the instant the SLA rule is evaluated at. */
  clockAt: number | null;
  /** Episodes so far, the open one included (0: never at risk). */
  episodes: number;
  open: boolean;
};

export type EpisodeOpened = {
  kind: 'opened';
  customerId: string;
  episode: number;
  /** `event`: the saga saw the customer become at risk; `sla-check`: the clock did, and its alert opened it. */
  openedBy: 'event' | 'sla-check';
  tier: Tier;
  reasons: string[];
  raisedAt: number;
  trigger: { eventId: string; position: bigint; correlationId: string | null };
  /** Already in the log (an alert opened it); null: the alert is still to be sent. */
  alertPosition: bigint | null;
};
export type EpisodeEnded = { kind: 'ended'; customerId: string; episode: number; endedAt: number; position: bigint };
/** The alert of an episode reached the log. */
export type AlertRecorded = { kind: 'alert-recorded'; customerId: string; episode: number; position: bigint };
export type EpisodeChange = EpisodeOpened | EpisodeEnded | AlertRecorded;

/**
 * Folds one event of the customer (mutating it) and says what it did to the risk episodes. An
 * episode opens when the customer, outside an episode, is at risk after an event, with the reasons
 * as of the customer's clock; it ends when, after an event, the customer has no reason left (a
 * later promoter answer or good call, the complaint resolved or closed, 30 days of contacts since
 * the bad one, a move to tier C). New reasons during an episode change nothing: one alert per
 * episode. An alert the SLA check appended opens its episode when the saga had none open; any
 * other alert only marks its episode as sent. Pure: event data only, never the clock.
 */
export function foldRiskEvent(customer: RetentionCustomer, event: RecordedEvent, changes: FoldChanges): EpisodeChange[] {
  applyEvent(customer.risk, event, changes);
  const at = businessTime(event);
  if (customer.clockAt === null || at > customer.clockAt) customer.clockAt = at;
  // Made only when an episode opens: most events open none, and reading the metadata parses it.
  const trigger = () => ({ eventId: event.id, position: event.position, correlationId: event.metadata?.correlationId ?? null });
  const out: EpisodeChange[] = [];

  if (event.type === RETENTION_ALERT_RAISED) {
    const data = event.data as RetentionAlertRaised['data'];
    if (Number.isSafeInteger(data.episode) && data.episode > customer.episodes) {
      customer.episodes = data.episode;
      customer.open = true;
      out.push({
        kind: 'opened',
        customerId: customer.customerId,
        episode: data.episode,
        openedBy: 'sla-check',
        tier: data.tier,
        reasons: [...data.reasons],
        raisedAt: at,
        trigger: trigger(),
        alertPosition: event.position,
      });
    } else if (Number.isSafeInteger(data.episode) && data.episode > 0) {
      out.push({ kind: 'alert-recorded', customerId: customer.customerId, episode: data.episode, position: event.position });
    }
  }

  const reasons = riskReasons(customer.risk, customer.clockAt);
  if (customer.open && reasons.length === 0) {
    customer.open = false;
    out.push({ kind: 'ended', customerId: customer.customerId, episode: customer.episodes, endedAt: customer.clockAt ?? at, position: event.position });
  } else if (!customer.open && reasons.length > 0) {
    customer.episodes += 1;
    customer.open = true;
    out.push({
      kind: 'opened',
      customerId: customer.customerId,
      episode: customer.episodes,
      openedBy: 'event',
      tier: customer.risk.tier,
      reasons,
      raisedAt: customer.clockAt ?? at,
      trigger: trigger(),
      alertPosition: null,
    });
  }
  return out;
}
