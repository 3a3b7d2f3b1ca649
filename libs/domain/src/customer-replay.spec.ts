import type { LoggedEvent } from './customer-360.fold.js';
import { type AsOf, type CustomerAsOf, customerStateAsOf, knownAsOf, replayCustomer, type StateChange } from './customer-replay.js';

// A scripted customer story. Business times (in the data) are when things happened; `recordedAt`
// is when the platform learned of them, a second later, except for the late answer (#14).
const C = 'c-1';
const at = (iso: string) => new Date(iso);
const event = (position: number, type: string, recorded: string, data: Record<string, unknown>): LoggedEvent => ({
  type,
  data: { customerId: C, ...data },
  position: BigInt(position),
  recordedAt: at(recorded),
});
const step = (position: number, name: string, time: string, data: Record<string, unknown> = {}) =>
  event(position, `complaint.${name}.v1`, time.replace(':00Z', ':01Z'), { complaintId: 'c-7', [`${name}At`]: time, ...data });

const registered = event(1, 'customer.registered.v1', '2025-03-01T09:00:01Z', { name: 'pii:v1:sealed-name', locale: 'es-ES', registeredAt: '2025-03-01T09:00:00Z' });
const promotedToA = event(2, 'customer.tier-changed.v1', '2025-03-01T09:00:01Z', { from: 'C', to: 'A', reason: 'set on registration', changedAt: '2025-03-01T09:00:00Z' });
const badCall = event(5, 'moment.recorded.v1', '2025-03-10T10:00:01Z', { momentId: 'm-1', kind: 'billing', channel: 'phone', outcome: 'negative', waitSeconds: 540, occurredAt: '2025-03-10T10:00:00Z' });
const detractor = event(6, 'feedback.submitted.v1', '2025-03-10T10:30:01Z', { nps: 3, csat: 2, ces: 6, momentId: 'm-1', submittedAt: '2025-03-10T10:30:00Z' });
const filed = step(8, 'filed', '2025-03-10T11:00:00Z', { category: 'billing', channel: 'phone', severity: 'high' });
const acknowledged = step(9, 'acknowledged', '2025-03-10T12:00:00Z');
const routed = step(10, 'routed', '2025-03-11T09:00:00Z', { area: 'billing' });
const promoter = event(12, 'feedback.submitted.v1', '2025-03-12T09:00:01Z', { nps: 10, submittedAt: '2025-03-12T09:00:00Z' });
const resolved = step(13, 'resolved', '2025-03-14T09:00:00Z', { resolution: 'refunded' });
const lateAnswer = event(14, 'feedback.submitted.v1', '2025-03-19T08:00:00Z', { csat: 5, submittedAt: '2025-03-12T09:05:00Z' });
const downToB = event(15, 'customer.tier-changed.v1', '2025-03-20T09:00:01Z', { from: 'A', to: 'B', reason: 'tier job', changedAt: '2025-03-20T09:00:00Z' });
const goodCall = event(16, 'moment.recorded.v1', '2025-03-20T10:00:01Z', { momentId: 'm-2', kind: 'payment', channel: 'phone', outcome: 'positive', amount: 120.5, currency: 'EUR', occurredAt: '2025-03-20T10:00:00Z' });
const closed = step(18, 'closed', '2025-03-21T10:00:00Z');

const story = [registered, promotedToA, badCall, detractor, filed, acknowledged, routed, promoter, resolved, lateAnswer, downToB, goodCall, closed];

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** given(events).asOf(point).then(state) / .thenTimeline(changes per known event). */
function given(...events: LoggedEvent[]) {
  return {
    asOf: (asOf: AsOf, logReachedAt?: number) => ({
      then: (expected: DeepPartial<CustomerAsOf>) => expect(customerStateAsOf(C, events, asOf, logReachedAt)).toMatchObject(expected),
      thenTimeline: (expected: StateChange[][]) => expect(replayCustomer(C, events, asOf, logReachedAt).steps.map((s) => s.changes)).toEqual(expected),
    }),
  };
}
const position = (p: number): AsOf => ({ position: BigInt(p) });
const time = (iso: string): AsOf => ({ time: Date.parse(iso) });

describe('customer state as of a point of the log', () => {
  it('before the first event: nothing known, tier C, no risk', () => {
    given(...story).asOf(time('2025-03-01T09:00:00Z')).then({
      customerId: C,
      tier: 'C',
      events: 0,
      position: '0',
      profile: { name: null, registeredAt: null },
      openComplaints: { count: 0, items: [] },
      atRisk: false,
      asOf: '2025-03-01T09:00:00.000Z',
    });
  });

  it('as of position 2: registered, tier A, no contact yet, not at risk', () => {
    given(...story).asOf(position(2)).then({
      events: 2,
      position: '2',
      tier: 'A',
      tierChangedAt: '2025-03-01T09:00:00.000Z',
      profile: { name: 'pii:v1:sealed-name', locale: 'es-ES', registeredAt: '2025-03-01T09:00:00.000Z' },
      lastContactAt: null,
      atRisk: false,
      riskReasons: [],
      // No logReachedAt: evaluated when the latest folded event was recorded.
      asOf: '2025-03-01T09:00:01.000Z',
    });
  });

  it('as of position 9: a bad call and a detractor answer put the A customer at risk; the complaint is acknowledged', () => {
    given(...story).asOf(position(9)).then({
      events: 6,
      position: '9',
      moments: { total: 1, byChannelGroup: { telephone: 1, personal: 0, print: 0, electronic: 0 } },
      satisfaction: {
        nps: { latest: 3, latestAt: '2025-03-10T10:30:00.000Z', answers: 1, trend: null },
        csat: { latest: 2, answers: 1 },
        ces: { latest: 6, answers: 1 },
      },
      complaintsFiled: 1,
      openComplaints: {
        count: 1,
        items: [{ complaintId: 'c-7', stage: 'acknowledged', severity: 'high', area: null, filedAt: '2025-03-10T11:00:00.000Z', dueAt: '2025-03-13T11:00:00.000Z', pastSla: false }],
      },
      atRisk: true,
      riskReasons: ['detractor', 'negative phone moment'],
    });
  });

  it('a position between two of the customer\'s events gives the state after the earlier one', () => {
    const p11 = customerStateAsOf(C, story, position(11), Date.parse('2025-03-11T09:00:01Z'));
    expect(p11).toEqual(customerStateAsOf(C, story, position(10), Date.parse('2025-03-11T09:00:01Z')));
    expect(p11.openComplaints.items[0]).toMatchObject({ stage: 'routed', area: 'billing' });
  });

  it('as of a time past the SLA with no event since: the unresolved complaint adds its reason', () => {
    // Due 13 March 11:00 (high: 72 h from filing); resolved only on the 14th.
    given(...story).asOf(time('2025-03-13T12:00:00Z')).then({
      events: 8,
      position: '12',
      satisfaction: { nps: { latest: 10, answers: 2 } },
      openComplaints: { count: 1, items: [{ complaintId: 'c-7', stage: 'routed', pastSla: true }] },
      atRisk: true,
      riskReasons: ['negative phone moment', 'complaint c-7 unresolved past its high SLA'],
      asOf: '2025-03-13T12:00:00.000Z',
    });
    // The same events an hour before the due time: only the phone moment.
    given(...story).asOf(time('2025-03-13T10:00:00Z')).then({ riskReasons: ['negative phone moment'], openComplaints: { items: [{ pastSla: false }] } });
  });

  it('as of a time, an answer counts from when it was recorded, not from when it says it was given', () => {
    // The CSAT 5 says 12 March but arrived on the 19th.
    given(...story).asOf(time('2025-03-18T00:00:00Z')).then({ satisfaction: { csat: { latest: 2, answers: 1 } }, events: 9 });
    given(...story).asOf(time('2025-03-19T08:00:00Z')).then({ satisfaction: { csat: { latest: 5, latestAt: '2025-03-12T09:05:00.000Z', answers: 2 } }, events: 10 });
  });

  it('at the end: tier B, a good call clears the risk, the complaint closed, value from the payment', () => {
    given(...story).asOf(position(1000)).then({
      events: 13,
      position: '18',
      tier: 'B',
      preferredChannel: 'phone',
      channels: [{ channel: 'phone', channelGroup: 'telephone', moments: 2, complaints: 1, lastContactAt: '2025-03-20T10:00:00.000Z' }],
      lastContactAt: '2025-03-20T10:00:00.000Z',
      complaintsFiled: 1,
      openComplaints: { count: 0, items: [] },
      value: { amount: 120.5, currency: 'EUR', payments: 1, byCurrency: { EUR: 120.5 } },
      atRisk: false,
      riskReasons: [],
    });
  });

  it('folds in log order whatever order the events come in', () => {
    const shuffled = [...story].reverse();
    expect(customerStateAsOf(C, shuffled, position(13))).toEqual(customerStateAsOf(C, story, position(13)));
  });

  it('the timeline says what each event changed: tier, complaint stages, risk', () => {
    const risk = (from: string[], to: string[]): StateChange => ({ kind: 'risk', from, to });
    const complaint = (from: string | null, to: string) => ({ kind: 'complaint', complaintId: 'c-7', from, to }) as StateChange;
    given(...story).asOf(position(18)).thenTimeline([
      [], // registered
      [{ kind: 'tier', from: 'C', to: 'A' }],
      [risk([], ['negative phone moment'])],
      [risk(['negative phone moment'], ['detractor', 'negative phone moment'])],
      [complaint(null, 'filed')],
      [complaint('filed', 'acknowledged')],
      [complaint('acknowledged', 'routed')],
      [risk(['detractor', 'negative phone moment'], ['negative phone moment'])],
      // Resolved a day past its SLA: the SLA ran out between two events, so only the state as of 13 March shows it.
      [complaint('routed', 'resolved')],
      [], // the late CSAT
      [{ kind: 'tier', from: 'A', to: 'B' }],
      [risk(['negative phone moment'], [])],
      [complaint('resolved', 'closed')],
    ]);
  });

  it('a C customer is never at risk, whatever happens', () => {
    const asC = story.filter((e) => e !== promotedToA && e !== downToB);
    given(...asC).asOf(time('2025-03-13T12:00:00Z')).then({ tier: 'C', atRisk: false, riskReasons: [] });
    expect(replayCustomer(C, asC, position(18)).steps.flatMap((s) => s.changes).filter((c) => c.kind === 'risk')).toEqual([]);
  });

  it('knows an event by position, or by the time it was recorded', () => {
    expect(knownAsOf(filed, position(8))).toBe(true);
    expect(knownAsOf(filed, position(7))).toBe(false);
    expect(knownAsOf(filed, time('2025-03-10T11:00:01Z'))).toBe(true);
    expect(knownAsOf(filed, time('2025-03-10T11:00:00.999Z'))).toBe(false);
  });
});
