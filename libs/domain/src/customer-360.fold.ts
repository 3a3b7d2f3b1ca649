import {
  type ChannelGroup,
  channelGroup,
  defaultTier,
  isChannel,
  isTier,
  type Severity,
  type Tier,
} from './catalogue.js';
import type { ComplaintFiled, ComplaintRouted } from './complaint.events.js';
import type { CustomerRegistered, CustomerTierChanged, CustomerUpdated } from './customer.events.js';
import type { FeedbackSubmitted } from './feedback.events.js';
import type { MomentRecorded } from './moment.events.js';
import { npsCategory, scoreRanges } from './satisfaction.metrics.js';

/**
 * The customer 360 fold: a customer's state from the events that name them, and the rules that
 * follow from it (preferred channel, trends, at-risk). Pure: the read model folds it batch by
 * batch into its tables, the retention saga and the journey replay fold it in memory.
 */

/** An event as the log gives it back: what the fold reads of a stored event (the store's `RecordedEvent` is one). */
export type LoggedEvent = {
  readonly type: string;
  readonly data: unknown;
  readonly position: bigint;
  readonly recordedAt: Date;
};

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** How long a complaint may stay unresolved, by severity, before it puts an A or B customer at risk. */
export const COMPLAINT_SLA_HOURS: Readonly<Record<Severity, number>> = Object.freeze({
  critical: 24,
  high: 72,
  medium: 7 * 24,
  low: 14 * 24,
});

/**
 * A detractor answer or a badly handled call counts as a risk signal while it lies within this many
 * days of the customer's own latest contact: measured on event times, so a rebuild gives the same rows.
 */
export const RISK_EPISODE_DAYS = 30;

/** The trend compares the mean of the last TREND_WINDOW answers with the mean of the TREND_WINDOW before. */
export const TREND_WINDOW = 3;
const KEPT_ANSWERS = 2 * TREND_WINDOW;

export const RISK_DETRACTOR = 'detractor';
export const RISK_NEGATIVE_PHONE = 'negative phone moment';

export const measures = ['nps', 'csat', 'ces'] as const;
export type Measure = (typeof measures)[number];

export const complaintStages = ['filed', 'acknowledged', 'routed', 'resolved', 'confirmed'] as const;
/** Stages of a complaint that is still open; `closed` ones leave the read model. */
export type ComplaintStage = (typeof complaintStages)[number];
/** Stages in which the harm has not been repaired yet: the SLA clock is running. */
export const unresolvedStages: readonly ComplaintStage[] = ['filed', 'acknowledged', 'routed'];

export type Answer = { score: number; at: number; position: bigint };
/** `recent` holds the latest answers in time order (oldest first), at most 2 x TREND_WINDOW. */
export type AnswerHistory = { answers: number; recent: Answer[] };

export type ChannelStats = {
  customerId: string;
  channel: string;
  moments: number;
  complaints: number;
  lastAt: number;
  lastPosition: bigint;
};

export type OpenComplaint = {
  complaintId: string;
  customerId: string;
  stage: ComplaintStage;
  severity: string;
  category: string;
  channel: string;
  area: string | null;
  filedAt: number;
  /** filedAt + the SLA of its severity; null for a severity without one. */
  dueAt: number | null;
  stageAt: number;
  reopened: number;
  lastPosition: bigint;
};

export type PhoneMoment = { momentId: string; outcome: string; at: number; position: bigint };

export type Customer360State = {
  customerId: string;
  /** Sealed (`pii:v1:…`) as stored in the log; opened on read. */
  name: string | null;
  email: string | null;
  phone: string | null;
  declaredChannel: string | null;
  locale: string | null;
  registeredAt: number | null;
  profileUpdatedAt: number | null;
  tier: Tier;
  tierChangedAt: number | null;
  lastContactAt: number | null;
  moments: Record<ChannelGroup, number> & { total: number };
  satisfaction: Record<Measure, AnswerHistory>;
  /** The latest phone moment that has an outcome. */
  lastPhone: PhoneMoment | null;
  payments: number;
  /** Sum of payment amounts per currency, in ten-thousandths (amounts have at most 4 decimals). */
  valueUnits: Record<string, number>;
  complaintsFiled: number;
  channels: Map<string, ChannelStats>;
  complaints: Map<string, OpenComplaint>;
  lastPosition: bigint;
};

/** What a batch changed beyond the customer rows themselves. */
export type FoldChanges = {
  /** Keyed by customer id and channel. */
  channels: Map<string, ChannelStats>;
  complaints: Map<string, OpenComplaint>;
  closedComplaints: Set<string>;
};

export const newChanges = (): FoldChanges => ({ channels: new Map(), complaints: new Map(), closedComplaints: new Set() });

export function newCustomer(customerId: string): Customer360State {
  return {
    customerId,
    name: null,
    email: null,
    phone: null,
    declaredChannel: null,
    locale: null,
    registeredAt: null,
    profileUpdatedAt: null,
    tier: defaultTier,
    tierChangedAt: null,
    lastContactAt: null,
    moments: { total: 0, personal: 0, telephone: 0, print: 0, electronic: 0 },
    satisfaction: { nps: { answers: 0, recent: [] }, csat: { answers: 0, recent: [] }, ces: { answers: 0, recent: [] } },
    lastPhone: null,
    payments: 0,
    valueUnits: {},
    complaintsFiled: 0,
    channels: new Map(),
    complaints: new Map(),
    lastPosition: 0n,
  };
}

/** The time an event states, falling back to when it was recorded for data without one. */
function timeOf(value: unknown, event: LoggedEvent): number {
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(parsed) ? event.recordedAt.getTime() : parsed;
}

/** Later in time, and for the same instant later in the log. */
const isLater = (at: number, position: bigint, than: { at: number; position: bigint }) =>
  at > than.at || (at === than.at && position > than.position);

function contact(state: Customer360State, at: number): void {
  if (state.lastContactAt === null || at > state.lastContactAt) state.lastContactAt = at;
}

function countChannel(state: Customer360State, changes: FoldChanges, channel: string, what: 'moments' | 'complaints', at: number, position: bigint) {
  const stats = state.channels.get(channel) ?? { customerId: state.customerId, channel, moments: 0, complaints: 0, lastAt: at, lastPosition: position };
  stats[what] += 1;
  if (isLater(at, position, { at: stats.lastAt, position: stats.lastPosition })) {
    stats.lastAt = at;
    stats.lastPosition = position;
  }
  state.channels.set(channel, stats);
  changes.channels.set(`${state.customerId}\u0000${channel}`, stats);
}

function recordAnswer(history: AnswerHistory, answer: Answer): void {
  history.answers += 1;
  const last = history.recent.at(-1);
  history.recent.push(answer);
  // Answers may arrive out of time order (surveys are sent late): keep the latest by answer time.
  // Most arrive in order, and then the list is still sorted.
  if (last && !isLater(answer.at, answer.position, last)) {
    history.recent.sort((a, b) => a.at - b.at || (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  }
  if (history.recent.length > KEPT_ANSWERS) history.recent.splice(0, history.recent.length - KEPT_ANSWERS);
}

const validScore = (measure: Measure, score: unknown): score is number =>
  Number.isInteger(score) && (score as number) >= scoreRanges[measure].min && (score as number) <= scoreRanges[measure].max;

/** Amounts have at most 4 decimals: summing ten-thousandths as integers keeps the sum exact. */
export const toUnits = (amount: number): number => Math.round(amount * 10_000);

export function formatUnits(units: number): string {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  return `${sign}${Math.trunc(abs / 10_000)}.${String(abs % 10_000).padStart(4, '0')}`;
}

export function parseUnits(amount: string): number {
  const match = /^(-?)(\d+)(?:\.(\d{1,4}))?$/.exec(amount.trim());
  if (!match) throw new Error(`not an amount with at most 4 decimals: ${amount}`);
  const units = Number(match[2]) * 10_000 + Number((match[3] ?? '').padEnd(4, '0'));
  return match[1] === '-' ? -units : units;
}

function updateComplaint(state: Customer360State, changes: FoldChanges, complaintId: string, update: (c: OpenComplaint) => void, position: bigint) {
  const complaint = state.complaints.get(complaintId);
  // Closed complaints leave the state, and the complaint decider allows nothing after a close.
  if (!complaint) return;
  update(complaint);
  complaint.lastPosition = position;
  changes.complaints.set(complaintId, complaint);
}

/** A registration or update: the fields it carries replace the stored ones, absent ones stay. */
function mergeProfile(state: Customer360State, data: Partial<CustomerRegistered['data']>): void {
  state.name = data.name ?? state.name;
  state.email = data.email ?? state.email;
  state.phone = data.phone ?? state.phone;
  state.declaredChannel = data.preferredChannel ?? state.declaredChannel;
  state.locale = data.locale ?? state.locale;
}

/** Folds one event of the customer into the state (mutated in place: a batch's working copy). */
export function applyEvent(state: Customer360State, event: LoggedEvent, changes: FoldChanges): void {
  const position = event.position;
  if (position > state.lastPosition) state.lastPosition = position;
  switch (event.type) {
    case 'customer.registered.v1': {
      const data = event.data as CustomerRegistered['data'];
      mergeProfile(state, data);
      state.registeredAt = timeOf(data.registeredAt, event);
      return;
    }
    case 'customer.updated.v1': {
      const data = event.data as CustomerUpdated['data'];
      mergeProfile(state, data);
      state.profileUpdatedAt = timeOf(data.updatedAt, event);
      return;
    }
    case 'customer.tier-changed.v1': {
      const data = event.data as CustomerTierChanged['data'];
      if (isTier(data.to)) {
        state.tier = data.to;
        state.tierChangedAt = timeOf(data.changedAt, event);
      }
      return;
    }
    case 'moment.recorded.v1': {
      const data = event.data as MomentRecorded['data'];
      const at = timeOf(data.occurredAt, event);
      contact(state, at);
      state.moments.total += 1;
      if (isChannel(data.channel)) state.moments[channelGroup(data.channel)] += 1;
      countChannel(state, changes, String(data.channel), 'moments', at, position);
      if (data.channel === 'phone' && data.outcome !== undefined && (state.lastPhone === null || isLater(at, position, state.lastPhone))) {
        state.lastPhone = { momentId: data.momentId, outcome: data.outcome, at, position };
      }
      if (data.kind === 'payment' && typeof data.amount === 'number' && typeof data.currency === 'string') {
        state.payments += 1;
        state.valueUnits[data.currency] = (state.valueUnits[data.currency] ?? 0) + toUnits(data.amount);
      }
      return;
    }
    case 'feedback.submitted.v1': {
      const data = event.data as FeedbackSubmitted['data'];
      const at = timeOf(data.submittedAt, event);
      contact(state, at);
      for (const measure of measures) {
        const score = data[measure];
        if (validScore(measure, score)) recordAnswer(state.satisfaction[measure], { score, at, position });
      }
      return;
    }
    case 'complaint.filed.v1': {
      const data = event.data as ComplaintFiled['data'];
      const filedAt = timeOf(data.filedAt, event);
      contact(state, filedAt);
      state.complaintsFiled += 1;
      countChannel(state, changes, String(data.channel), 'complaints', filedAt, position);
      const slaHours = COMPLAINT_SLA_HOURS[data.severity as Severity] as number | undefined;
      const complaint: OpenComplaint = {
        complaintId: data.complaintId,
        customerId: state.customerId,
        stage: 'filed',
        severity: String(data.severity),
        category: String(data.category),
        channel: String(data.channel),
        area: null,
        filedAt,
        dueAt: slaHours === undefined ? null : filedAt + slaHours * HOUR_MS,
        stageAt: filedAt,
        reopened: 0,
        lastPosition: position,
      };
      state.complaints.set(data.complaintId, complaint);
      changes.closedComplaints.delete(data.complaintId);
      changes.complaints.set(data.complaintId, complaint);
      return;
    }
    case 'complaint.acknowledged.v1': {
      const data = event.data as { complaintId: string; acknowledgedAt: string };
      updateComplaint(state, changes, data.complaintId, (c) => Object.assign(c, { stage: 'acknowledged', stageAt: timeOf(data.acknowledgedAt, event) }), position);
      return;
    }
    case 'complaint.routed.v1': {
      const data = event.data as ComplaintRouted['data'];
      updateComplaint(state, changes, data.complaintId, (c) => Object.assign(c, { stage: 'routed', area: data.area, stageAt: timeOf(data.routedAt, event) }), position);
      return;
    }
    case 'complaint.resolved.v1': {
      const data = event.data as { complaintId: string; resolvedAt: string };
      updateComplaint(state, changes, data.complaintId, (c) => Object.assign(c, { stage: 'resolved', stageAt: timeOf(data.resolvedAt, event) }), position);
      return;
    }
    case 'complaint.confirmed.v1': {
      const data = event.data as { complaintId: string; confirmedAt: string };
      updateComplaint(state, changes, data.complaintId, (c) => Object.assign(c, { stage: 'confirmed', stageAt: timeOf(data.confirmedAt, event) }), position);
      return;
    }
    case 'complaint.reopened.v1': {
      // Back with its area to be resolved again; its SLA still counts from filing.
      const data = event.data as { complaintId: string; reopenedAt: string };
      updateComplaint(
        state,
        changes,
        data.complaintId,
        (c) => Object.assign(c, { stage: 'routed', reopened: c.reopened + 1, stageAt: timeOf(data.reopenedAt, event) }),
        position,
      );
      return;
    }
    case 'complaint.closed.v1': {
      const { complaintId } = event.data as { complaintId: string };
      state.complaints.delete(complaintId);
      changes.complaints.delete(complaintId);
      changes.closedComplaints.add(complaintId);
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// What follows from the state: derived on every write, so every relevant event recomputes it.
// ---------------------------------------------------------------------------------------------

/** The channel with the most moments and complaints; ties go to the most recent contact. */
export function preferredChannel(channels: Iterable<ChannelStats>): string | null {
  let best: ChannelStats | undefined;
  for (const c of channels) {
    if (!best) {
      best = c;
      continue;
    }
    const contacts = c.moments + c.complaints;
    const bestContacts = best.moments + best.complaints;
    if (contacts > bestContacts || (contacts === bestContacts && isLater(c.lastAt, c.lastPosition, { at: best.lastAt, position: best.lastPosition }))) {
      best = c;
    }
  }
  return best?.channel ?? null;
}

export type Trend = {
  recentMean: number;
  previousMean: number;
  /** recentMean - previousMean, in the measure's own scale. */
  change: number;
  /** For CES lower is better, so a falling mean is improving. */
  direction: 'improving' | 'worsening' | 'flat';
};

const mean = (answers: readonly Answer[]) => answers.reduce((sum, a) => sum + a.score, 0) / answers.length;

/** A change smaller than 5% of the measure's range (NPS 0.5, CSAT 0.2, CES 0.3 points) is flat. */
const FLAT_SHARE_OF_RANGE = 0.05;

/**
 * The mean of the last 3 answers against the mean of the (up to) 3 before them; null with fewer
 * than 4 answers, when there is nothing before to compare with.
 */
export function trendOf(measure: Measure, recent: readonly Answer[]): Trend | null {
  if (recent.length <= TREND_WINDOW) return null;
  const last = recent.slice(-TREND_WINDOW);
  const before = recent.slice(-2 * TREND_WINDOW, -TREND_WINDOW);
  const recentMean = mean(last);
  const previousMean = mean(before);
  const change = recentMean - previousMean;
  const flat = FLAT_SHARE_OF_RANGE * (scoreRanges[measure].max - scoreRanges[measure].min);
  const better = measure === 'ces' ? -change : change;
  return { recentMean, previousMean, change, direction: Math.abs(change) < flat ? 'flat' : better > 0 ? 'improving' : 'worsening' };
}

export const latestAnswer = (history: AnswerHistory): Answer | null => history.recent.at(-1) ?? null;

export const isUnresolved = (stage: string): boolean => (unresolvedStages as readonly string[]).includes(stage);

export const tierWatched = (tier: string): boolean => tier === 'A' || tier === 'B';

/**
 * The risk signals known from events alone (the SLA rule needs the time of the question and is
 * evaluated on read): the latest NPS answer is a detractor, or the latest phone moment with an
 * outcome went badly, within RISK_EPISODE_DAYS of the customer's latest contact. Only A and B
 * customers are watched; a C customer has no reasons.
 */
export function signalReasons(state: Customer360State): string[] {
  if (!tierWatched(state.tier) || state.lastContactAt === null) return [];
  const since = state.lastContactAt - RISK_EPISODE_DAYS * DAY_MS;
  const reasons: string[] = [];
  const nps = latestAnswer(state.satisfaction.nps);
  if (nps && npsCategory(nps.score) === 'detractor' && nps.at >= since) reasons.push(RISK_DETRACTOR);
  if (state.lastPhone?.outcome === 'negative' && state.lastPhone.at >= since) reasons.push(RISK_NEGATIVE_PHONE);
  return reasons;
}

/** The earliest due time among unresolved complaints: the first instant the SLA rule can fire. */
export function nextSlaDueAt(complaints: Iterable<OpenComplaint>): number | null {
  let next: number | null = null;
  for (const c of complaints) {
    if (c.dueAt !== null && isUnresolved(c.stage) && (next === null || c.dueAt < next)) next = c.dueAt;
  }
  return next;
}

/** The reason the SLA rule gives for a complaint, when it is unresolved past its due time at `asOf`. */
export function slaReason(complaint: { complaintId: string; severity: string; stage: string; dueAt: number | null }, asOf: number): string | null {
  if (complaint.dueAt === null || !isUnresolved(complaint.stage) || asOf <= complaint.dueAt) return null;
  return `complaint ${complaint.complaintId} unresolved past its ${complaint.severity} SLA`;
}

/**
 * The reasons an A or B customer is at risk as of `asOf`, in the order the customer 360 view gives
 * them: its stored signals (detractor, negative phone moment), then each complaint unresolved past
 * its SLA at `asOf`, earliest due first. One definition of risk for the read model, the retention
 * saga and the journey replay.
 */
export function riskReasons(state: Customer360State, asOf: number | null): string[] {
  if (!tierWatched(state.tier)) return [];
  const reasons = signalReasons(state);
  if (asOf === null) return reasons;
  const complaints = [...state.complaints.values()].sort(
    (a, b) => (a.dueAt ?? 0) - (b.dueAt ?? 0) || (a.complaintId < b.complaintId ? -1 : a.complaintId > b.complaintId ? 1 : 0),
  );
  for (const complaint of complaints) {
    const reason = slaReason(complaint, asOf);
    if (reason) reasons.push(reason);
  }
  return reasons;
}
