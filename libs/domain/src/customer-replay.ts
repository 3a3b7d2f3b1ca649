import { type ChannelGroup, channelGroup, isChannel, type Tier } from './catalogue.js';
import {
  applyEvent,
  type ComplaintStage,
  type Customer360State,
  type FoldChanges,
  formatUnits,
  latestAnswer,
  type LoggedEvent,
  type Measure,
  measures,
  newChanges,
  newCustomer,
  preferredChannel,
  riskReasons,
  slaReason,
  type Trend,
  trendOf,
} from './customer-360.fold.js';
import type { Sealed } from './customer.events.js';

/**
 * Replaying a customer's journey: their state as of a point of the log, folded from their events
 * with the customer 360 rules, and what each event changed on the way.
 *
 * "As of" means what the platform knew then: as of a log position, the events at that position or
 * before; as of a time, the events recorded (`recordedAt`) at that instant or before, whatever
 * business time they carry (an answer sent a week late was not known until it arrived).
 */
export type AsOf = { readonly position: bigint } | { readonly time: number };

/** Whether the platform knew `event` as of `asOf`. */
export function knownAsOf(event: Pick<LoggedEvent, 'position' | 'recordedAt'>, asOf: AsOf): boolean {
  return 'position' in asOf ? event.position <= asOf.position : event.recordedAt.getTime() <= asOf.time;
}

/** What one event changed in the customer's state: the changes a timeline shows next to it. */
export type StateChange =
  | { readonly kind: 'tier'; readonly from: Tier; readonly to: Tier }
  /** `from` is null for a complaint just filed; `to` is `closed` when it left the open complaints. */
  | { readonly kind: 'complaint'; readonly complaintId: string; readonly from: ComplaintStage | null; readonly to: ComplaintStage | 'closed' }
  /** The at-risk reasons changed: `to` empty means no longer at risk. */
  | { readonly kind: 'risk'; readonly from: readonly string[]; readonly to: readonly string[] };

/** A replay under way: the fold state, and what the timeline last said about risk. */
export type Replay = {
  readonly state: Customer360State;
  /** The at-risk reasons after the last event, evaluated at `clock`. */
  reasons: string[];
  /** The latest `recordedAt` folded so far: when the platform knew all of it. */
  clock: number | null;
  events: number;
  /** What the fold reports for a read model's tables: a replay has none, so one set is reused and never read. */
  readonly changes: FoldChanges;
};

export const newReplay = (customerId: string): Replay => ({ state: newCustomer(customerId), reasons: [], clock: null, events: 0, changes: newChanges() });

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Folds the customer's next event (in log order) and says what it changed. Risk after the event is
 * evaluated at the time it was recorded, as the customer 360 view would have answered right then;
 * risk that only time brings (an SLA running out with no event) shows in the state as of a later
 * instant, not on the timeline.
 */
export function replayEvent(replay: Replay, event: LoggedEvent): StateChange[] {
  const { state } = replay;
  const tierBefore = state.tier;
  // Only a complaint's own events move it: the one named in the event's data.
  const complaintId = event.type.startsWith('complaint.') ? (event.data as { complaintId?: unknown } | null)?.complaintId : undefined;
  const stageBefore = typeof complaintId === 'string' ? (state.complaints.get(complaintId)?.stage ?? null) : null;
  applyEvent(state, event, replay.changes);
  replay.events += 1;
  const recorded = event.recordedAt.getTime();
  if (replay.clock === null || recorded > replay.clock) replay.clock = recorded;

  const changes: StateChange[] = [];
  if (state.tier !== tierBefore) changes.push({ kind: 'tier', from: tierBefore, to: state.tier });
  if (typeof complaintId === 'string') {
    const stageAfter = state.complaints.get(complaintId)?.stage ?? (stageBefore === null ? null : 'closed');
    if (stageAfter !== null && stageAfter !== stageBefore) changes.push({ kind: 'complaint', complaintId, from: stageBefore, to: stageAfter });
  }
  const reasons = riskReasons(state, replay.clock);
  if (!sameList(reasons, replay.reasons)) {
    changes.push({ kind: 'risk', from: replay.reasons, to: reasons });
    replay.reasons = reasons;
  }
  return changes;
}

export type MeasureAsOf = { latest: number | null; latestAt: string | null; answers: number; trend: Trend | null };

export type OpenComplaintAsOf = {
  complaintId: string;
  stage: ComplaintStage;
  severity: string;
  category: string;
  channel: string;
  area: string | null;
  filedAt: string;
  dueAt: string | null;
  pastSla: boolean;
  reopened: number;
};

/** A customer's profile in the customer 360 view. Personal fields as the log holds them: sealed. */
export type ProfileView = {
  name: Sealed | null;
  email: Sealed | null;
  phone: Sealed | null;
  locale: string | null;
  declaredPreferredChannel: string | null;
  registeredAt: string | null;
  updatedAt: string | null;
};

/** The profile as the API answers it: personal fields opened (`Sealed` is their text when sealed). */
export type OpenedProfile = ProfileView & {
  /** Personal fields that are null because the customer's data was erased. */
  erased: string[];
};

/**
 * A customer in the customer 360 view's shape, whoever builds it: the replay folds it from the
 * log (`CustomerAsOf`, profile sealed), the read model's reader answers it from its rows (profile
 * opened). One shape, so the two answers cannot drift apart.
 */
export type CustomerShape<Profile extends ProfileView> = {
  customerId: string;
  profile: Profile;
  tier: Tier;
  tierChangedAt: string | null;
  preferredChannel: string | null;
  lastContactAt: string | null;
  moments: { total: number; byChannelGroup: Record<ChannelGroup, number> };
  channels: Array<{ channel: string; channelGroup: string | null; moments: number; complaints: number; lastContactAt: string }>;
  satisfaction: Record<Measure, MeasureAsOf>;
  complaintsFiled: number;
  openComplaints: { count: number; items: OpenComplaintAsOf[] };
  value: { amount: number | null; currency: string | null; payments: number; byCurrency: Record<string, number> };
  atRisk: boolean;
  riskReasons: string[];
  /** The instant the SLA rule was evaluated at. */
  asOf: string;
  /** The log position of the last event folded into this customer ("0": none). */
  position: string;
};

/** The customer as of an instant, folded from the log. Personal fields stay sealed here. */
export type CustomerAsOf = CustomerShape<ProfileView> & {
  /** How many of the customer's events were folded. */
  events: number;
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const round2 = (x: number): number => Math.round(x * 100) / 100 + 0;
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The replayed customer as of `instant` (ms since the epoch): at-risk with the SLA rule evaluated then. */
export function customerAsOf(replay: Replay, instant: number): CustomerAsOf {
  const { state } = replay;
  const reasons = riskReasons(state, instant);
  const currencies = Object.keys(state.valueUnits).sort();
  const single = currencies.length === 1 ? currencies[0] : null;
  const measure = (m: Measure): MeasureAsOf => {
    const history = state.satisfaction[m];
    const latest = latestAnswer(history);
    const trend = trendOf(m, history.recent);
    return {
      latest: latest?.score ?? null,
      latestAt: iso(latest?.at ?? null),
      answers: history.answers,
      trend: trend && { ...trend, recentMean: round2(trend.recentMean), previousMean: round2(trend.previousMean), change: round2(trend.change) },
    };
  };
  return {
    customerId: state.customerId,
    profile: {
      name: state.name,
      email: state.email,
      phone: state.phone,
      locale: state.locale,
      declaredPreferredChannel: state.declaredChannel,
      registeredAt: iso(state.registeredAt),
      updatedAt: iso(state.profileUpdatedAt),
    },
    tier: state.tier,
    tierChangedAt: iso(state.tierChangedAt),
    preferredChannel: preferredChannel(state.channels.values()),
    lastContactAt: iso(state.lastContactAt),
    moments: {
      total: state.moments.total,
      byChannelGroup: { personal: state.moments.personal, telephone: state.moments.telephone, print: state.moments.print, electronic: state.moments.electronic },
    },
    channels: [...state.channels.values()]
      .sort((a, b) => b.moments + b.complaints - (a.moments + a.complaints) || b.lastAt - a.lastAt || byId(a.channel, b.channel))
      .map((c) => ({
        channel: c.channel,
        channelGroup: isChannel(c.channel) ? channelGroup(c.channel) : null,
        moments: c.moments,
        complaints: c.complaints,
        lastContactAt: new Date(c.lastAt).toISOString(),
      })),
    satisfaction: { nps: measure('nps'), csat: measure('csat'), ces: measure('ces') },
    complaintsFiled: state.complaintsFiled,
    openComplaints: {
      count: state.complaints.size,
      items: [...state.complaints.values()]
        .sort((a, b) => a.filedAt - b.filedAt || byId(a.complaintId, b.complaintId))
        .map((c) => ({
          complaintId: c.complaintId,
          stage: c.stage,
          severity: c.severity,
          category: c.category,
          channel: c.channel,
          area: c.area,
          filedAt: new Date(c.filedAt).toISOString(),
          dueAt: iso(c.dueAt),
          pastSla: slaReason(c, instant) !== null,
          reopened: c.reopened,
        })),
    },
    value: {
      amount: single === null ? null : Number(formatUnits(state.valueUnits[single])),
      currency: single,
      payments: state.payments,
      byCurrency: Object.fromEntries(currencies.map((c) => [c, Number(formatUnits(state.valueUnits[c]))])),
    },
    atRisk: reasons.length > 0,
    riskReasons: reasons,
    asOf: new Date(instant).toISOString(),
    position: state.lastPosition.toString(),
    events: replay.events,
  };
}

/** The instant a state as of `asOf` is evaluated at: the time asked for, or when the log reached the position. */
export function instantOf(asOf: AsOf, replay: Pick<Replay, 'clock'>, logReachedAt?: number): number {
  if ('time' in asOf) return asOf.time;
  return logReachedAt ?? replay.clock ?? 0;
}

/**
 * The customer's state as of `asOf`, folded from their events (any order: they are folded in log
 * order, those the platform did not know yet left out). For a position, `logReachedAt` is when
 * the log reached it (its event's `recordedAt`); without it, the latest of the folded events.
 */
export function customerStateAsOf(customerId: string, events: readonly LoggedEvent[], asOf: AsOf, logReachedAt?: number): CustomerAsOf {
  return replayCustomer(customerId, events, asOf, logReachedAt).customer;
}

/** The same fold, with what each known event changed: the replayed timeline. */
export function replayCustomer(
  customerId: string,
  events: readonly LoggedEvent[],
  asOf: AsOf,
  logReachedAt?: number,
): { customer: CustomerAsOf; steps: Array<{ position: bigint; changes: StateChange[] }> } {
  const replay = newReplay(customerId);
  const known = events.filter((e) => knownAsOf(e, asOf)).sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  const steps = known.map((event) => ({ position: event.position, changes: replayEvent(replay, event) }));
  return { customer: customerAsOf(replay, instantOf(asOf, replay, logReachedAt)), steps };
}
