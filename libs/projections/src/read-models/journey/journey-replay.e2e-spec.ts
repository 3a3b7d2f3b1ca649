import { startTestApp, type TestApp, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';

const INGEST_KEY = 'ingest-key-replay-0123456789';
const READ_KEY = 'read-key-replay-0123456789';
const NAME = 'Ana García Pérez';
const EMAIL = 'ana.garcia@example.com';
const DESCRIPTION = 'Me cobraron dos veces la factura de marzo.';

type Json = Record<string, unknown>;
type Change = { kind: string; [key: string]: unknown };
type ReplayedEvent = { position: string; type: string; storedType: string; time: string; recordedAt: string; data: Json; changes: Change[] };
type State = {
  profile: Json;
  tier: string;
  moments: { total: number };
  satisfaction: Record<'nps' | 'csat' | 'ces', { latest: number | null; answers: number }>;
  complaintsFiled: number;
  openComplaints: { count: number; items: Json[] };
  value: Json;
  atRisk: boolean;
  riskReasons: string[];
  asOf: string;
  position: string;
  events: number;
};
type Page = {
  customerId: string;
  asOf: { position?: string; time?: string };
  events: ReplayedEvent[];
  nextCursor: string | null;
  state: State;
  status?: string;
  errors?: Array<{ field: string; message: string }>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomUUID().slice(0, 8);
const ANA = `cust-${run}-ana`;
const LUIS = `cust-${run}-luis`;
const CMP = `CMP-${run}-1`;
const SLA = `complaint ${CMP} unresolved past its high SLA`;

let app: TestApp;
let n = 0;
const ce = (type: string, subject: string, time: string, data: Json): Json => ({
  specversion: '1.0',
  id: `replay-${run}-${++n}`,
  source: 'urn:cx:e2e',
  type,
  subject,
  time,
  data,
});
const step = (name: string, time: string, data: Json = {}) => ce(`cx.complaint.${name}`, ANA, time, { complaintId: CMP, ...data });

/** One ingest call = one transaction; calls 30 ms apart, so a time between two of them cuts cleanly. */
async function ingest(...events: Json[]): Promise<string> {
  const response = await fetch(`${app.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${INGEST_KEY}` },
    body: JSON.stringify(events),
  });
  const body = (await response.json()) as { position: string; results: Array<{ status: string }> };
  expect(response.status).toBe(200);
  expect(body.results.map((r) => r.status)).toEqual(events.map(() => 'accepted'));
  await sleep(30);
  return body.position;
}

async function replay(customerId: string, query: Record<string, string>, key = READ_KEY): Promise<{ status: number; body: Page }> {
  const url = new URL(`${app.url}/v1/customers/${encodeURIComponent(customerId)}/journey`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Page };
}
async function ok(customerId: string, query: Record<string, string>): Promise<Page> {
  const reply = await replay(customerId, query);
  expect(reply.status).toBe(200);
  return reply.body;
}

describe(`journey replay (asOf) end to end on ${testBackend}`, () => {
  const at: Record<string, string> = {};

  beforeAll(async () => {
    // No tier job and no alert dispatcher: nothing but this script writes to Ana's log.
    app = await startTestApp({
      CX_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read`,
      CX_TIER_INTERVAL_MINUTES: '0',
      CX_RETENTION_ALERT_INTERVAL_SECONDS: '0',
    });
    at.registered = await ingest(ce('cx.customer.registered', ANA, '2025-03-03T08:15:00Z', { name: NAME, email: EMAIL, tier: 'A' }));
    at.luisRegistered = await ingest(ce('cx.customer.registered', LUIS, '2025-03-04T09:00:00Z', { name: 'Luis Moreno' }));
    at.badCall = await ingest(ce('cx.moment.recorded', ANA, '2025-03-14T10:22:05Z', { kind: 'billing', channel: 'phone', outcome: 'negative', waitSeconds: 540 }));
    at.luisMoment = await ingest(ce('cx.moment.recorded', LUIS, '2025-03-14T10:30:00Z', { kind: 'payment', channel: 'web' }));
    at.filed = await ingest(step('filed', '2025-03-14T10:31:40Z', { category: 'billing', channel: 'phone', severity: 'high', description: DESCRIPTION }));
    at.detractor = await ingest(ce('cx.feedback.submitted', ANA, '2025-03-14T10:40:12Z', { nps: 3, csat: 2 }));
    at.routed = await ingest(step('acknowledged', '2025-03-14T11:05:00Z'), step('routed', '2025-03-14T11:06:30Z', { area: 'billing' }));
    at.resolved = await ingest(step('resolved', '2025-03-15T16:20:00Z', { resolution: 'Refunded.' }));
    at.downToB = await ingest(ce('cx.customer.updated', ANA, '2025-03-20T09:00:00Z', { tier: 'B', locale: 'es-ES' }));
    at.goodCall = await ingest(ce('cx.moment.recorded', ANA, '2025-03-21T09:00:00Z', { kind: 'payment', channel: 'phone', outcome: 'positive', amount: 49.9, currency: 'EUR' }));
    at.promoter = await ingest(ce('cx.feedback.submitted', ANA, '2025-03-21T09:10:00Z', { nps: 10 }));
    at.closed = await ingest(step('confirmed', '2025-03-27T10:00:00Z'), step('closed', '2025-03-27T10:05:00Z'));
  }, 90_000);

  afterAll(async () => {
    await app?.close();
  });

  it('as of now: every event in log order with what it changed, and the final state, from the log', async () => {
    const page = await ok(ANA, { asOf: new Date().toISOString(), limit: '1000' });
    expect(page.events.map((e) => e.storedType)).toEqual([
      'customer.registered.v1',
      'customer.tier-changed.v1',
      'moment.recorded.v1',
      'complaint.filed.v1',
      'feedback.submitted.v1',
      'complaint.acknowledged.v1',
      'complaint.routed.v1',
      'complaint.resolved.v1',
      'customer.updated.v1',
      'customer.tier-changed.v1',
      'moment.recorded.v1',
      'feedback.submitted.v1',
      'complaint.confirmed.v1',
      'complaint.closed.v1',
    ]);
    // Hand-computed. The business times are of 2025 and the platform learned of them now, so from
    // the filing on, the high-severity complaint is past its 72 h SLA until it is resolved.
    const complaint = (from: string | null, to: string) => ({ kind: 'complaint', complaintId: CMP, from, to });
    const risk = (from: string[], to: string[]) => ({ kind: 'risk', from, to });
    expect(page.events.map((e) => e.changes)).toEqual([
      [],
      [{ kind: 'tier', from: 'C', to: 'A' }],
      [risk([], ['negative phone moment'])],
      [complaint(null, 'filed'), risk(['negative phone moment'], ['negative phone moment', SLA])],
      [risk(['negative phone moment', SLA], ['detractor', 'negative phone moment', SLA])],
      [complaint('filed', 'acknowledged')],
      [complaint('acknowledged', 'routed')],
      [complaint('routed', 'resolved'), risk(['detractor', 'negative phone moment', SLA], ['detractor', 'negative phone moment'])],
      [],
      [{ kind: 'tier', from: 'A', to: 'B' }],
      [risk(['detractor', 'negative phone moment'], ['detractor'])],
      [risk(['detractor'], [])],
      [complaint('resolved', 'confirmed')],
      [complaint('confirmed', 'closed')],
    ]);
    expect(page.events.at(-1)!.position).toBe(at.closed);
    expect(page.nextCursor).toBeNull();
    expect(page.state).toMatchObject({
      profile: { name: NAME, email: EMAIL, locale: 'es-ES', registeredAt: '2025-03-03T08:15:00.000Z', updatedAt: '2025-03-20T09:00:00.000Z', erased: [] },
      tier: 'B',
      tierChangedAt: '2025-03-20T09:00:00.000Z',
      preferredChannel: 'phone',
      lastContactAt: '2025-03-21T09:10:00.000Z',
      moments: { total: 2, byChannelGroup: { telephone: 2 } },
      satisfaction: { nps: { latest: 10, answers: 2 }, csat: { latest: 2, answers: 1 }, ces: { latest: null, answers: 0 } },
      complaintsFiled: 1,
      openComplaints: { count: 0, items: [] },
      value: { amount: 49.9, currency: 'EUR', payments: 1 },
      atRisk: false,
      riskReasons: [],
      position: at.closed,
      events: 14,
    });
    // Personal data opened, in the events and the profile; nothing of Luis.
    const filed = page.events.find((e) => e.storedType === 'complaint.filed.v1')!;
    expect(filed.data).toMatchObject({ description: DESCRIPTION, severity: 'high' });
    expect(filed.time).toBe('2025-03-14T10:31:40.000Z');
    const text = JSON.stringify(page);
    expect(text).not.toContain('pii:v1:');
    expect(text).not.toContain('Luis');
  });

  it('as of a log position: the events at or before it and the state then', async () => {
    const afterBadCall = await ok(ANA, { asOf: at.badCall });
    expect(afterBadCall.asOf).toEqual({ position: at.badCall });
    expect(afterBadCall.events.map((e) => e.storedType)).toEqual(['customer.registered.v1', 'customer.tier-changed.v1', 'moment.recorded.v1']);
    expect(afterBadCall.state).toMatchObject({
      profile: { name: NAME },
      tier: 'A',
      moments: { total: 1 },
      satisfaction: { nps: { latest: null, answers: 0 } },
      complaintsFiled: 0,
      openComplaints: { count: 0 },
      atRisk: true,
      riskReasons: ['negative phone moment'],
      position: at.badCall,
      events: 3,
      // Evaluated when the log reached that position.
      asOf: afterBadCall.events[2].recordedAt,
    });

    // Luis's moment sits between two of Ana's events: as of it, Ana is as after the bad call,
    // evaluated at the time the log reached Luis's moment.
    const luis = await ok(LUIS, { asOf: at.luisMoment });
    const betweenThem = await ok(ANA, { asOf: at.luisMoment });
    expect(betweenThem.events).toEqual(afterBadCall.events);
    expect(betweenThem.state).toEqual({ ...afterBadCall.state, asOf: luis.events.at(-1)!.recordedAt });

    const routed = await ok(ANA, { asOf: at.routed });
    expect(routed.state).toMatchObject({
      events: 7,
      satisfaction: { nps: { latest: 3, answers: 1 }, csat: { latest: 2, answers: 1 } },
      openComplaints: { count: 1, items: [{ complaintId: CMP, stage: 'routed', area: 'billing', severity: 'high', dueAt: '2025-03-17T10:31:40.000Z', pastSla: true }] },
      atRisk: true,
      riskReasons: ['detractor', 'negative phone moment', SLA],
    });

    const downToB = await ok(ANA, { asOf: at.downToB });
    expect(downToB.state).toMatchObject({
      events: 10,
      tier: 'B',
      openComplaints: { count: 1, items: [{ stage: 'resolved', pastSla: false }] },
      riskReasons: ['detractor', 'negative phone moment'],
    });

    // Position 0: before everything. Ana exists, so 200 with nothing known.
    const none = await ok(ANA, { asOf: '0' });
    expect(none.events).toEqual([]);
    expect(none.state).toMatchObject({ tier: 'C', events: 0, position: '0', profile: { name: null }, atRisk: false });
  });

  it('as of a time: the events recorded at or before it', async () => {
    const all = (await ok(ANA, { asOf: new Date().toISOString(), limit: '1000' })).events;
    const feedback = all.find((e) => e.storedType === 'feedback.submitted.v1')!;
    const acknowledged = all.find((e) => e.storedType === 'complaint.acknowledged.v1')!;
    // Halfway between the detractor answer's transaction and the acknowledgement's (30 ms and more apart).
    const between = new Date((Date.parse(feedback.recordedAt) + Date.parse(acknowledged.recordedAt)) / 2).toISOString();
    const page = await ok(ANA, { asOf: between });
    expect(page.asOf).toEqual({ time: between });
    expect(page.events.map((e) => e.storedType)).toEqual([
      'customer.registered.v1',
      'customer.tier-changed.v1',
      'moment.recorded.v1',
      'complaint.filed.v1',
      'feedback.submitted.v1',
    ]);
    expect(page.state).toMatchObject({
      tier: 'A',
      satisfaction: { nps: { latest: 3, answers: 1 }, csat: { latest: 2, answers: 1 } },
      complaintsFiled: 1,
      openComplaints: { count: 1, items: [{ complaintId: CMP, stage: 'filed', area: null, pastSla: true }] },
      atRisk: true,
      riskReasons: ['detractor', 'negative phone moment', SLA],
      position: feedback.position,
      events: 5,
      asOf: between,
    });

    // A time before the customer's first event: known customer, nothing known then. A date is midnight UTC.
    const before = await ok(ANA, { asOf: '2020-01-01' });
    expect(before.events).toEqual([]);
    expect(before.state).toMatchObject({ events: 0, tier: 'C', asOf: '2020-01-01T00:00:00.000Z' });
  });

  it('pages the events with the cursor, the state always from every event known', async () => {
    const asOf = at.closed;
    const full = await ok(ANA, { asOf, limit: '1000' });
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: Page = await ok(ANA, { asOf, limit: '4', ...(cursor ? { cursor } : {}) });
      sizes.push(page.events.length);
      seen.push(...page.events.map((e) => e.position));
      expect(page.state).toEqual(full.state);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    // 14 events, 4 a page.
    expect(sizes).toEqual([4, 4, 4, 2]);
    expect(seen).toEqual(full.events.map((e) => e.position));

    // from/to filter the listed events on business time; the state still folds them all.
    const day = await ok(ANA, { asOf, from: '2025-03-14', to: '2025-03-15' });
    expect(day.events.map((e) => e.storedType)).toEqual(['moment.recorded.v1', 'complaint.filed.v1', 'feedback.submitted.v1', 'complaint.acknowledged.v1', 'complaint.routed.v1']);
    expect(day.state).toEqual(full.state);
  });

  it('reads its own writes at once: the replay reads the log, not a read model', async () => {
    const fresh = `cust-${run}-new`;
    const position = await ingest(ce('cx.moment.recorded', fresh, '2025-04-01T08:00:00Z', { kind: 'incident', channel: 'chat', outcome: 'negative' }));
    const page = await ok(fresh, { asOf: position });
    expect(page.events.map((e) => e.position)).toEqual([position]);
    expect(page.state).toMatchObject({ events: 1, moments: { total: 1 }, tier: 'C', atRisk: false });
  });

  it('answers 400 naming asOf when it is neither a time nor a position, 404 for a customer the log does not name', async () => {
    for (const bad of ['yesterday', '2025-03-14T10:00:00', '-1', '99999999999999999999', '2025-02-30']) {
      const reply = await replay(ANA, { asOf: bad });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ status: 'rejected', errors: [{ field: 'asOf', message: expect.stringContaining('log position') }] });
    }
    const several = await replay(ANA, { asOf: 'soon', limit: '0' });
    expect(several.body.errors!.map((e) => e.field).sort()).toEqual(['asOf', 'limit']);

    for (const asOf of ['0', at.closed, new Date().toISOString()]) {
      const unknown = await replay(`cust-${run}-nobody`, { asOf });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ status: 'not_found', errors: [{ field: 'id', message: expect.stringContaining('event log') }] });
    }
    expect((await replay(ANA, { asOf: at.closed }, INGEST_KEY)).status).toBe(403);
  });
});
