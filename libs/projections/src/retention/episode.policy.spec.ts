import type { RecordedEvent } from '@cx/event-store';
import { newChanges, newCustomer } from '../read-models/customer-360/customer-360.fold.js';
import { businessTime, type EpisodeChange, foldRiskEvent, type RetentionCustomer, riskReasons } from './episode.policy.js';

const RECORDED = new Date('2030-01-01T00:00:00Z');
let position = 0n;

function event(type: string, data: Record<string, unknown>, recordedAt = RECORDED): RecordedEvent {
  position += 1n;
  const id = `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`;
  return { id, type, data, metadata: { correlationId: `corr-${position}`, causationId: id }, streamId: 's', streamVersion: 0, position, recordedAt };
}

const C = 'cus-1';
const tier = (to: string, at: string, from = 'C') => event('customer.tier-changed.v1', { customerId: C, from, to, reason: 'spec', changedAt: at });
const nps = (score: number, at: string) => event('feedback.submitted.v1', { customerId: C, nps: score, submittedAt: at });
const moment = (at: string, data: Record<string, unknown> = {}) =>
  event('moment.recorded.v1', { momentId: `m-${position + 1n}`, customerId: C, kind: 'information', channel: 'web', occurredAt: at, ...data });
const phone = (at: string, outcome?: string) => moment(at, { channel: 'phone', ...(outcome ? { outcome } : {}) });
const filed = (complaintId: string, severity: string, at: string) =>
  event('complaint.filed.v1', { complaintId, customerId: C, category: 'billing', channel: 'phone', severity, filedAt: at });
const step = (name: string, complaintId: string, field: string, at: string) => event(`complaint.${name}.v1`, { complaintId, customerId: C, [field]: at });
const alert = (episode: number, raisedAt: string, reasons = ['complaint K1 unresolved past its high SLA'], tierOf = 'B') =>
  event('retention.alert-raised.v1', { customerId: C, episode, episodeId: 'x', reasons, tier: tierOf, raisedAt });

function saga() {
  const customer: RetentionCustomer = { customerId: C, risk: newCustomer(C), clockAt: null, episodes: 0, open: false };
  const changes = newChanges();
  return {
    customer,
    /** Folds the events and returns what they did to the episodes, in short form. */
    fold(...events: RecordedEvent[]): string[] {
      return events.flatMap((e) => foldRiskEvent(customer, e, changes)).map(summary);
    },
  };
}

function summary(change: EpisodeChange): string {
  switch (change.kind) {
    case 'opened':
      return `opened #${change.episode} by ${change.openedBy} at ${new Date(change.raisedAt).toISOString()}: ${change.reasons.join(' + ')}`;
    case 'ended':
      return `ended #${change.episode} at ${new Date(change.endedAt).toISOString()}`;
    case 'alert-recorded':
      return `alert of #${change.episode} recorded`;
  }
}

describe('risk episodes', () => {
  it('opens one episode when an A customer answers as a detractor, and not another while it lasts', () => {
    const s = saga();
    expect(s.fold(tier('A', '2025-03-01T00:00:00Z'))).toEqual([]);
    expect(s.fold(nps(3, '2025-03-02T10:00:00Z'))).toEqual(['opened #1 by event at 2025-03-02T10:00:00.000Z: detractor']);
    // A second detractor answer and a new reason (a bad call) change nothing: the episode is already open.
    expect(s.fold(nps(2, '2025-03-03T10:00:00Z'), phone('2025-03-04T10:00:00Z', 'negative'))).toEqual([]);
    expect(s.customer).toMatchObject({ episodes: 1, open: true });
    expect(riskReasons(s.customer.risk, s.customer.clockAt)).toEqual(['detractor', 'negative phone moment']);
  });

  it('ends the episode when no reason is left, and opens a second one on the next detractor', () => {
    const s = saga();
    s.fold(tier('B', '2025-03-01T00:00:00Z'), nps(4, '2025-03-02T10:00:00Z'));
    // A promoter answer replaces the detractor as the latest answer: no reason left.
    expect(s.fold(nps(9, '2025-03-05T10:00:00Z'))).toEqual(['ended #1 at 2025-03-05T10:00:00.000Z']);
    expect(s.fold(moment('2025-03-06T10:00:00Z'))).toEqual([]);
    expect(s.fold(nps(0, '2025-03-07T10:00:00Z'))).toEqual(['opened #2 by event at 2025-03-07T10:00:00.000Z: detractor']);
  });

  it('watches only A and B: a C customer is never at risk, and becomes so on promotion with a live signal', () => {
    const s = saga();
    expect(s.fold(nps(1, '2025-03-02T10:00:00Z'), phone('2025-03-02T11:00:00Z', 'negative'))).toEqual([]);
    // Promoted on 03-10: the detractor answer (03-02) is within 30 days of the last contact (03-02).
    expect(s.fold(tier('A', '2025-03-10T00:00:00Z'))).toEqual(['opened #1 by event at 2025-03-10T00:00:00.000Z: detractor + negative phone moment']);
    // Down to C: the episode ends.
    expect(s.fold(tier('C', '2025-03-11T00:00:00Z', 'A'))).toEqual(['ended #1 at 2025-03-11T00:00:00.000Z']);
  });

  it('takes the latest answer by answer time: a late detractor answered before a promoter raises nothing', () => {
    const s = saga();
    s.fold(tier('A', '2025-03-01T00:00:00Z'), nps(10, '2025-03-05T10:00:00Z'));
    expect(s.fold(nps(2, '2025-03-03T10:00:00Z'))).toEqual([]);
  });

  it('ends a detractor episode after 30 days of further contacts without another answer', () => {
    const s = saga();
    s.fold(tier('A', '2025-03-01T00:00:00Z'), nps(5, '2025-03-02T10:00:00Z'));
    // 03-02 10:00 + 30 days = 04-01 10:00: a contact then still counts it, one a minute later does not.
    expect(s.fold(moment('2025-04-01T10:00:00Z'))).toEqual([]);
    expect(s.fold(moment('2025-04-01T10:01:00Z'))).toEqual(['ended #1 at 2025-04-01T10:01:00.000Z']);
  });

  it('ends a bad-call episode on a later call that went well, not on one without an outcome', () => {
    const s = saga();
    s.fold(tier('B', '2025-03-01T00:00:00Z'));
    expect(s.fold(phone('2025-03-02T10:00:00Z', 'negative'))).toEqual(['opened #1 by event at 2025-03-02T10:00:00.000Z: negative phone moment']);
    expect(s.fold(phone('2025-03-03T10:00:00Z'))).toEqual([]);
    expect(s.fold(phone('2025-03-04T10:00:00Z', 'neutral'))).toEqual(['ended #1 at 2025-03-04T10:00:00.000Z']);
  });

  it('sees a complaint past its SLA at the time of the next event of the customer', () => {
    const s = saga();
    s.fold(tier('B', '2025-03-01T00:00:00Z'), filed('K1', 'high', '2025-03-02T00:00:00Z'));
    // High: 72 h, due 03-05 00:00. At 03-04 23:00 it is not past due; at 03-05 01:00 it is.
    expect(s.fold(moment('2025-03-04T23:00:00Z'))).toEqual([]);
    expect(s.fold(step('acknowledged', 'K1', 'acknowledgedAt', '2025-03-05T01:00:00Z'))).toEqual([
      'opened #1 by event at 2025-03-05T01:00:00.000Z: complaint K1 unresolved past its high SLA',
    ]);
    expect(s.fold(step('resolved', 'K1', 'resolvedAt', '2025-03-06T00:00:00Z'))).toEqual(['ended #1 at 2025-03-06T00:00:00.000Z']);
    // Reopened: unresolved again, and past its original due time.
    expect(s.fold(step('reopened', 'K1', 'reopenedAt', '2025-03-07T00:00:00Z'))).toEqual([
      'opened #2 by event at 2025-03-07T00:00:00.000Z: complaint K1 unresolved past its high SLA',
    ]);
    expect(s.fold(step('closed', 'K1', 'closedAt', '2025-03-08T00:00:00Z'))).toEqual(['ended #2 at 2025-03-08T00:00:00.000Z']);
  });

  it('lets an alert of the SLA check open its episode, and takes a repeated alert as sent, not as a new episode', () => {
    const s = saga();
    s.fold(tier('B', '2025-03-01T00:00:00Z'), filed('K1', 'high', '2025-03-02T00:00:00Z'));
    // The check saw K1 past due at 03-06 (wall clock); the saga had nothing open.
    expect(s.fold(alert(1, '2025-03-06T00:00:00Z'))).toEqual(['opened #1 by sla-check at 2025-03-06T00:00:00.000Z: complaint K1 unresolved past its high SLA']);
    expect(s.fold(alert(1, '2025-03-06T00:01:00Z'))).toEqual(['alert of #1 recorded']);
    // A promoter answer dated earlier ends nothing: at the saga's clock (03-06, the alert's time) K1 is still past due.
    expect(s.fold(nps(9, '2025-03-05T00:00:00Z'))).toEqual([]);
    expect(s.fold(step('resolved', 'K1', 'resolvedAt', '2025-03-06T12:00:00Z'))).toEqual(['ended #1 at 2025-03-06T12:00:00.000Z']);
  });

  it('marks the alert of an episode the saga opened itself as sent', () => {
    const s = saga();
    s.fold(tier('A', '2025-03-01T00:00:00Z'), nps(3, '2025-03-02T10:00:00Z'));
    expect(s.fold(alert(1, '2025-03-02T10:00:00Z', ['detractor'], 'A'))).toEqual(['alert of #1 recorded']);
    expect(s.customer).toMatchObject({ episodes: 1, open: true });
  });

  it('closes at once an episode an alert opened when the customer is no longer at risk (the check read an older state)', () => {
    const s = saga();
    s.fold(tier('B', '2025-03-01T00:00:00Z'), filed('K1', 'high', '2025-03-02T00:00:00Z'), step('resolved', 'K1', 'resolvedAt', '2025-03-05T12:00:00Z'));
    expect(s.fold(alert(1, '2025-03-06T00:00:00Z'))).toEqual([
      'opened #1 by sla-check at 2025-03-06T00:00:00.000Z: complaint K1 unresolved past its high SLA',
      'ended #1 at 2025-03-06T00:00:00.000Z',
    ]);
  });

  it('gives reasons in the order of the customer 360 view: signals, then complaints by due time', () => {
    const s = saga();
    s.fold(
      tier('A', '2025-03-01T00:00:00Z'),
      filed('K-low', 'low', '2025-03-01T00:00:00Z'), // due 03-15
      filed('K-critical', 'critical', '2025-03-10T00:00:00Z'), // due 03-11
      phone('2025-03-10T01:00:00Z', 'negative'),
      nps(6, '2025-03-10T02:00:00Z'),
    );
    expect(riskReasons(s.customer.risk, Date.parse('2025-03-20T00:00:00Z'))).toEqual([
      'detractor',
      'negative phone moment',
      'complaint K-critical unresolved past its critical SLA',
      'complaint K-low unresolved past its low SLA',
    ]);
    expect(riskReasons(s.customer.risk, Date.parse('2025-03-12T00:00:00Z'))).toEqual(['detractor', 'negative phone moment', 'complaint K-critical unresolved past its critical SLA']);
  });

  it('never takes a business time later than the recording as the clock', () => {
    const recorded = new Date('2025-03-03T00:00:00Z');
    expect(businessTime(event('moment.recorded.v1', { customerId: C, occurredAt: '2031-01-01T00:00:00Z' }, recorded))).toBe(recorded.getTime());
    expect(businessTime(event('moment.recorded.v1', { customerId: C, occurredAt: '2025-03-02T00:00:00Z' }, recorded))).toBe(Date.parse('2025-03-02T00:00:00Z'));
    expect(businessTime(event('moment.recorded.v1', { customerId: C }, recorded))).toBe(recorded.getTime());
    expect(businessTime(event('retention.alert-raised.v1', { customerId: C, raisedAt: '2025-03-01T00:00:00Z' }, recorded))).toBe(Date.parse('2025-03-01T00:00:00Z'));
  });
});
