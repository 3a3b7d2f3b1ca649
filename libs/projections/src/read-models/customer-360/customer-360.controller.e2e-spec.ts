import { startTestApp, type TestApp, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';

const INGEST_KEY = 'ingest-key-c360-0123456789';
const READ_KEY = 'read-key-c360-0123456789';

type Json = Record<string, unknown>;
type Reply<T = Json> = { status: number; body: T; headers: Headers };

let app: TestApp;
const run = randomUUID().slice(0, 8);
const ANA = `ana-${run}`;
const LUIS = `luis-${run}`;
const CMP = `CMP-${run}`;

let n = 0;
const ce = (type: string, subject: string, time: string, data: Json): Json => ({
  specversion: '1.0',
  id: `c360-e2e-${run}-${++n}`,
  source: 'urn:cx:e2e',
  type,
  subject,
  time,
  data,
});

async function ingest(events: Json[]): Promise<string> {
  const response = await fetch(`${app.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${INGEST_KEY}` },
    body: JSON.stringify(events),
  });
  const body = (await response.json()) as { accepted: number; position: string };
  expect({ status: response.status, accepted: body.accepted }).toEqual({ status: 200, accepted: events.length });
  return body.position;
}

async function get<T = Json>(path: string, key: string | null = READ_KEY): Promise<Reply<T>> {
  const response = await fetch(`${app.url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
}

type Customer = {
  customerId: string;
  profile: Json & { erased: string[] };
  tier: string;
  preferredChannel: string | null;
  atRisk: boolean;
  riskReasons: string[];
  value: Json;
  moments: Json;
  satisfaction: Record<string, Json>;
  openComplaints: { count: number; items: Json[] };
  lastContactAt: string | null;
};
type Page = { customers: Customer[]; nextCursor: string | null; asOf: string };

describe(`customer 360 API end to end on ${testBackend}`, () => {
  let position: string;

  beforeAll(async () => {
    app = await startTestApp({ CX_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read` });

    position = await ingest([
      ce('cx.customer.registered', ANA, '2025-03-01T08:00:00Z', {
        name: 'Ana García Pérez',
        email: 'ana@example.com',
        preferredChannel: 'email',
        locale: 'es-ES',
        tier: 'B',
      }),
      ce('cx.customer.registered', LUIS, '2025-03-01T09:00:00Z', { name: 'Luis Martín' }),
      ce('cx.moment.recorded', ANA, '2025-03-02T10:00:00Z', { kind: 'payment', channel: 'phone', amount: 100.25, currency: 'EUR' }),
      ce('cx.moment.recorded', ANA, '2025-03-03T10:00:00Z', { kind: 'billing', channel: 'phone' }),
      ce('cx.moment.recorded', ANA, '2025-03-04T10:00:00Z', { kind: 'information', channel: 'phone' }),
      ce('cx.moment.recorded', ANA, '2025-03-05T10:00:00Z', { kind: 'payment', channel: 'web', amount: 20.25, currency: 'EUR' }),
      ce('cx.feedback.submitted', ANA, '2025-03-06T10:00:00Z', { nps: 4, csat: 2, ces: 6 }),
      ce('cx.feedback.submitted', LUIS, '2025-03-06T10:00:00Z', { nps: 4 }),
      ce('cx.complaint.filed', ANA, '2025-03-10T00:00:00Z', { complaintId: CMP, category: 'billing', channel: 'letter', severity: 'high' }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  it('answers the 360-degree view of a customer, profile decrypted, once the read model reached the write', async () => {
    const reply = await get<Customer>(`/v1/customers/${ANA}?minPosition=${position}&asOf=2025-03-14T00:00:00Z`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      customerId: ANA,
      profile: { name: 'Ana García Pérez', email: 'ana@example.com', phone: null, locale: 'es-ES', declaredPreferredChannel: 'email', erased: [] },
      tier: 'B',
      // 3 phone moments, 1 web moment, 1 complaint by letter.
      preferredChannel: 'phone',
      moments: { total: 4, byChannelGroup: { personal: 0, telephone: 3, print: 0, electronic: 1 } },
      // 100.25 + 20.25
      value: { amount: 120.5, currency: 'EUR', payments: 2 },
      satisfaction: { nps: { latest: 4, latestAt: '2025-03-06T10:00:00.000Z', answers: 1, trend: null }, csat: { latest: 2 }, ces: { latest: 6 } },
      lastContactAt: '2025-03-10T00:00:00.000Z',
      openComplaints: { count: 1, items: [{ complaintId: CMP, stage: 'filed', severity: 'high', dueAt: '2025-03-13T00:00:00.000Z', pastSla: true }] },
      // A B customer: the detractor answer, and the high complaint 96 h old at asOf (SLA 72 h).
      atRisk: true,
      riskReasons: ['detractor', `complaint ${CMP} unresolved past its high SLA`],
      asOf: '2025-03-14T00:00:00.000Z',
    });
    const early = await get<Customer>(`/v1/customers/${ANA}?asOf=2025-03-12T00:00:00Z`);
    expect(early.body.riskReasons).toEqual(['detractor']);
  });

  it('lists customers by tier and risk with an opaque cursor, in customer id order', async () => {
    const atRisk = await get<Page>(`/v1/customers?atRisk=true&minPosition=${position}`);
    expect(atRisk.status).toBe(200);
    // Luis is a C customer: the same detractor answer does not put him at risk.
    expect(atRisk.body.customers.map((c) => c.customerId)).toEqual([ANA]);
    expect(atRisk.body.nextCursor).toBeNull();
    const c = await get<Page>(`/v1/customers?tier=C&atRisk=false`);
    expect(c.body.customers.map((x) => [x.customerId, x.profile.name])).toEqual([[LUIS, 'Luis Martín']]);

    const first = await get<Page>('/v1/customers?limit=1');
    expect(first.body.customers.map((x) => x.customerId)).toEqual([ANA]);
    expect(first.body.nextCursor).toBe(Buffer.from(ANA).toString('base64url'));
    const second = await get<Page>(`/v1/customers?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.customers.map((x) => x.customerId)).toEqual([LUIS]);
    expect(second.body.nextCursor).toBeNull();
  });

  it('follows later events: resolving the complaint removes its reason', async () => {
    const later = await ingest([
      ce('cx.complaint.acknowledged', ANA, '2025-03-14T01:00:00Z', { complaintId: CMP }),
      ce('cx.complaint.routed', ANA, '2025-03-14T02:00:00Z', { complaintId: CMP, area: 'billing' }),
      ce('cx.complaint.resolved', ANA, '2025-03-14T03:00:00Z', { complaintId: CMP, resolution: 'refunded' }),
      ce('cx.feedback.submitted', ANA, '2025-03-14T04:00:00Z', { nps: 9 }),
    ]);
    // minPosition in the header this time.
    const response = await fetch(`${app.url}/v1/customers/${ANA}?asOf=2025-03-20T00:00:00Z`, {
      headers: { authorization: `Bearer ${READ_KEY}`, 'x-cx-min-position': later },
    });
    expect(response.status).toBe(200);
    // The promoter answer ends the detractor episode; the resolved complaint no longer runs against its SLA.
    expect(await response.json()).toMatchObject({
      atRisk: false,
      riskReasons: [],
      satisfaction: { nps: { latest: 9, answers: 2 } },
      openComplaints: { count: 1, items: [{ stage: 'resolved', area: 'billing', pastSla: false }] },
    });
  });

  it('answers 404 for a customer no event names', async () => {
    const reply = await get(`/v1/customers/nobody-${run}?minPosition=${position}`);
    expect(reply.status).toBe(404);
    expect(reply.body).toMatchObject({ status: 'not_found', errors: [{ field: 'id' }] });
  });

  it.each([
    ['tier=D', 'tier'],
    ['atRisk=yes', 'atRisk'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=not*a*cursor', 'cursor'],
    [`cursor=${Buffer.from('bad id with spaces').toString('base64url')}`, 'cursor'],
    ['asOf=yesterday', 'asOf'],
    ['tier=A&tier=B', 'tier'],
  ])('answers 400 naming the field for %s', async (query, field) => {
    const reply = await get<{ status: string; errors: Json[] }>(`/v1/customers?${query}`);
    expect(reply.status).toBe(400);
    expect(reply.body.status).toBe('rejected');
    expect(reply.body.errors.map((e) => e.field)).toEqual([field]);
  });

  it('answers 400 for a bad asOf on one customer, and names every bad parameter of a list', async () => {
    expect((await get(`/v1/customers/${ANA}?asOf=2025-13-01`)).status).toBe(400);
    const reply = await get<{ errors: Json[] }>('/v1/customers?tier=Z&limit=-1&atRisk=1');
    expect(reply.status).toBe(400);
    expect(reply.body.errors.map((e) => e.field).sort()).toEqual(['atRisk', 'limit', 'tier']);
  });

  it('requires an API key with the read scope', async () => {
    expect((await get(`/v1/customers/${ANA}`, null)).status).toBe(401);
    expect((await get('/v1/customers', null)).status).toBe(401);
    expect((await get('/v1/customers', 'not-a-key-0123456789')).status).toBe(401);
    expect((await get('/v1/customers', INGEST_KEY)).status).toBe(403);
  });

  it('answers 503 with Retry-After when the read model cannot reach minPosition in time', async () => {
    const reply = await get(`/v1/customers/${ANA}?minPosition=999999999999`);
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('1');
  }, 15_000);
});
