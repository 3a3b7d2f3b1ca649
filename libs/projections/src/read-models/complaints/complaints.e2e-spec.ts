import { startTestApp, type TestApp, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';

const INGEST_KEY = 'ingest-key-complaints-0123456789';
const READ_KEY = 'read-key-complaints-0123456789';

type Json = Record<string, unknown>;
type Reply = { status: number; body: Json & { errors?: Array<{ field: string; message: string }> } };

let app: TestApp;

async function call(method: 'GET' | 'POST', path: string, key: string | null, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${app.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

const ce = (type: string, subject: string, time: string, data: Json): Json => ({
  specversion: '1.0',
  id: `${type}-${randomUUID()}`,
  source: 'urn:cx:e2e',
  type,
  subject,
  time,
  data,
});

describe(`complaint funnel API end to end on ${testBackend}`, () => {
  let position: string;
  const window = 'from=2025-02-01T00:00:00Z&to=2025-03-01T00:00:00Z';

  beforeAll(async () => {
    app = await startTestApp({ CX_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read` });

    const step = (customer: string, complaintId: string, type: string, time: string, data: Json = {}) =>
      ce(`cx.complaint.${type}`, customer, time, { complaintId, ...data });
    const batch = [
      // Ana's complaint goes the whole way: acknowledged after 1 h, routed after 2 h, resolved after 1 day, confirmed after 2 days.
      step('cust-ana', 'CMP-E2E-1', 'filed', '2025-02-10T09:00:00Z', { category: 'billing', channel: 'phone', severity: 'high', description: 'Cobro doble' }),
      step('cust-ana', 'CMP-E2E-1', 'acknowledged', '2025-02-10T10:00:00Z'),
      step('cust-ana', 'CMP-E2E-1', 'routed', '2025-02-10T11:00:00Z', { area: 'billing' }),
      step('cust-ana', 'CMP-E2E-1', 'resolved', '2025-02-11T09:00:00Z', { resolution: 'Refunded' }),
      step('cust-ana', 'CMP-E2E-1', 'confirmed', '2025-02-12T09:00:00Z'),
      // Luis's letter is only filed.
      step('cust-luis', 'CMP-E2E-2', 'filed', '2025-02-11T09:00:00Z', { category: 'delivery', channel: 'letter', severity: 'low' }),
      // Ana is also a detractor (she complained: not silent); Marta is a detractor who never complained.
      ce('cx.feedback.submitted', 'cust-ana', '2025-02-10T08:00:00Z', { nps: 2 }),
      ce('cx.feedback.submitted', 'cust-marta', '2025-02-15T08:00:00Z', { nps: 4, csat: 1 }),
      ce('cx.moment.recorded', 'cust-pepe', '2025-02-16T08:00:00Z', { kind: 'incident', channel: 'phone', outcome: 'negative' }),
    ];
    const ingested = await call('POST', '/v1/events', INGEST_KEY, batch);
    expect(ingested.status).toBe(200);
    expect(ingested.body).toMatchObject({ rejected: 0 });
    position = ingested.body.position as string;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  it('answers the funnel of the complaints just ingested, with silent dissatisfaction', async () => {
    const reply = await call('GET', `/v1/funnels/complaints?${window}&minPosition=${position}`, READ_KEY);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      from: '2025-02-01T00:00:00.000Z',
      to: '2025-03-01T00:00:00.000Z',
      groupBy: null,
      stages: [
        { stage: 'filed', count: 2, conversionFromPrevious: null, conversionFromFiled: 1, medianSecondsFromFiling: null },
        { stage: 'acknowledged', count: 1, conversionFromPrevious: 0.5, conversionFromFiled: 0.5, medianSecondsFromFiling: 3600 },
        { stage: 'routed', count: 1, conversionFromPrevious: 1, conversionFromFiled: 0.5, medianSecondsFromFiling: 7200 },
        { stage: 'resolved', count: 1, conversionFromPrevious: 1, conversionFromFiled: 0.5, medianSecondsFromFiling: 86400 },
        { stage: 'confirmed', count: 1, conversionFromPrevious: 1, conversionFromFiled: 0.5, medianSecondsFromFiling: 172800 },
      ],
      reopened: { complaints: 0, events: 0 },
      // Dissatisfied: Ana (detractor), Marta (detractor, CSAT 1), Pepe (failed call). Ana complained: 2 silent of 3.
      silentDissatisfaction: {
        customers: 2,
        reasons: { detractor: 1, lowCsat: 1, negativeMoment: 1 },
        dissatisfiedCustomers: 3,
        complainedCustomers: 1,
        silentShare: 0.6667,
      },
    });
  });

  it('gives one funnel per channel', async () => {
    const reply = await call('GET', `/v1/funnels/complaints?${window}&groupBy=channel&minPosition=${position}`, READ_KEY);
    expect(reply.status).toBe(200);
    const funnels = reply.body.funnels as Array<{ channel: string; stages: Array<{ count: number }> }>;
    expect(funnels.map((f) => [f.channel, f.stages.map((s) => s.count)])).toEqual([
      ['letter', [1, 0, 0, 0, 0]],
      ['phone', [1, 1, 1, 1, 1]],
    ]);
  });

  it('answers 400 for a bad groupBy or window, and needs the read scope', async () => {
    const bad = await call('GET', '/v1/funnels/complaints?groupBy=severity&from=2025-03-01&to=2025-02-01', READ_KEY);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      status: 'rejected',
      errors: [
        { field: 'to', message: 'must be after from' },
        { field: 'groupBy', message: 'must be one of category, channel, area' },
      ],
    });
    expect((await call('GET', '/v1/funnels/complaints', null)).status).toBe(401);
    expect((await call('GET', '/v1/funnels/complaints', INGEST_KEY)).status).toBe(403);
  });
});
