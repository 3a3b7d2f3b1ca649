import { startTestApp, type TestApp, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';

const INGEST_KEY = 'ingest-key-journey-0123456789';
const READ_KEY = 'read-key-journey-0123456789';
const NAME = 'Ana García Pérez';
const EMAIL = 'ana.garcia@example.com';
const COMMENT = 'Nueve minutos en espera y nadie me dijo por qué.';
const DESCRIPTION = 'Me cobraron dos veces la factura de marzo.';

type Json = Record<string, unknown>;
type JourneyEvent = { position: string; type: string; storedType: string; time: string; streamId: string; data: Json; erased: string[]; correlationId: string };
type Page = { customerId: string; events: JourneyEvent[]; nextCursor: string | null; status?: string; errors?: Array<{ field: string; message: string }> };

let app: TestApp;
const run = randomUUID().slice(0, 8);
const ANA = `cust-${run}-ana`;
const LUIS = `cust-${run}-luis`;
const COMPLAINT = `CMP-${run}-1`;
const CORRELATION = `journey-e2e-${run}`;

let n = 0;
const ce = (type: string, subject: string, time: string, data: Json): Json => ({
  specversion: '1.0',
  id: `journey-${run}-${++n}`,
  source: 'urn:cx:e2e',
  type,
  subject,
  time,
  data,
});
const step = (name: string, time: string, data: Json = {}) => ce(`cx.complaint.${name}`, ANA, time, { complaintId: COMPLAINT, ...data });

async function ingest(events: Json[]): Promise<string> {
  const response = await fetch(`${app.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${INGEST_KEY}`, 'x-correlation-id': CORRELATION },
    body: JSON.stringify(events),
  });
  const body = (await response.json()) as { position: string; results: Array<{ status: string }> };
  expect(response.status).toBe(200);
  expect(body.results.map((r) => r.status)).toEqual(events.map(() => 'accepted'));
  return body.position;
}

async function journey(customerId: string, query: Record<string, string> = {}, key: string | null = READ_KEY): Promise<{ status: number; body: Page; headers: Headers }> {
  const url = new URL(`${app.url}/v1/customers/${encodeURIComponent(customerId)}/journey`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const response = await fetch(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return { status: response.status, body: (await response.json()) as Page, headers: response.headers };
}

describe(`journey API end to end on ${testBackend}`, () => {
  let position: string;

  beforeAll(async () => {
    app = await startTestApp({ CX_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read` });

    await ingest([
      ce('cx.customer.registered', ANA, '2025-03-03T08:15:00Z', { name: NAME, email: EMAIL, tier: 'A' }),
      ce('cx.customer.registered', LUIS, '2025-03-04T09:00:00Z', { name: 'Luis Moreno' }),
    ]);
    await ingest([
      ce('cx.moment.recorded', ANA, '2025-03-14T10:22:05Z', { kind: 'billing', channel: 'phone', outcome: 'negative', waitSeconds: 540 }),
      ce('cx.moment.recorded', LUIS, '2025-03-14T10:30:00Z', { kind: 'payment', channel: 'web' }),
    ]);
    // One batch per step of Ana's: within a batch the store orders events by stream, not by input.
    await ingest([step('filed', '2025-03-14T10:31:40Z', { category: 'billing', channel: 'phone', severity: 'high', description: DESCRIPTION })]);
    await ingest([ce('cx.feedback.submitted', ANA, '2025-03-14T10:40:12Z', { nps: 3, csat: 2, comment: COMMENT })]);
    await ingest([step('acknowledged', '2025-03-14T11:05:00Z'), step('routed', '2025-03-14T11:06:30Z', { area: 'billing' })]);
    await ingest([step('resolved', '2025-03-15T16:20:00Z', { resolution: 'Refunded.' }), step('confirmed', '2025-03-27T10:00:00Z'), step('closed', '2025-03-27T10:05:00Z')]);
    position = await ingest([ce('cx.moment.recorded', ANA, '2025-04-01T08:00:00Z', { kind: 'payment', channel: 'app', outcome: 'positive' })]);
  }, 90_000);

  afterAll(async () => {
    await app?.close();
  });

  it("answers the customer's whole journey in log order, personal data decrypted, after minPosition", async () => {
    const reply = await journey(ANA, { minPosition: position });
    expect(reply.status).toBe(200);
    // Ana: registered + tier-changed (C -> A), moment, filed, feedback, acknowledged, routed, resolved, confirmed, closed, moment = 11.
    expect(reply.body.events.map((e) => e.type)).toEqual([
      'cx.customer.registered',
      'cx.customer.tier-changed',
      'cx.moment.recorded',
      'cx.complaint.filed',
      'cx.feedback.submitted',
      'cx.complaint.acknowledged',
      'cx.complaint.routed',
      'cx.complaint.resolved',
      'cx.complaint.confirmed',
      'cx.complaint.closed',
      'cx.moment.recorded',
    ]);
    const positions = reply.body.events.map((e) => BigInt(e.position));
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1])).toBe(true);
    expect(positions.at(-1)).toBe(BigInt(position));
    expect(reply.body.nextCursor).toBeNull();

    const [registered, , , filed, feedback] = reply.body.events;
    expect(registered).toMatchObject({ storedType: 'customer.registered.v1', time: '2025-03-03T08:15:00.000Z', streamId: `customer-${ANA}`, data: { name: NAME, email: EMAIL }, erased: [] });
    expect(filed).toMatchObject({ streamId: `complaint-${COMPLAINT}`, data: { description: DESCRIPTION, severity: 'high' } });
    expect(feedback).toMatchObject({ storedType: 'feedback.submitted.v1', data: { comment: COMMENT, nps: 3 }, correlationId: CORRELATION });
    const text = JSON.stringify(reply.body);
    expect(text).not.toContain('pii:v1:');
    expect(text).not.toContain('Luis Moreno');
  });

  it('pages with the opaque cursor, every event exactly once, also with the minPosition header', async () => {
    const all = (await journey(ANA)).body.events.map((e) => e.position);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const reply: { status: number; body: Page } = await fetch(
        `${app.url}/v1/customers/${ANA}/journey?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
        { headers: { authorization: `Bearer ${READ_KEY}`, 'x-cx-min-position': position } },
      ).then(async (r) => ({ status: r.status, body: (await r.json()) as Page }));
      expect(reply.status).toBe(200);
      seen.push(...reply.body.events.map((e) => e.position));
      cursor = reply.body.nextCursor;
      if (!cursor) break;
    }
    // 11 events, 4 a page: 4 + 4 + 3.
    expect(seen).toEqual(all);
    expect(all).toHaveLength(11);
  });

  it('filters on business time', async () => {
    const reply = await journey(ANA, { from: '2025-03-14', to: '2025-03-15', minPosition: position });
    // 14 March: moment 10:22, filed 10:31, feedback 10:40, acknowledged 11:05, routed 11:06 = 5.
    expect(reply.body.events.map((e) => e.storedType)).toEqual([
      'moment.recorded.v1',
      'complaint.filed.v1',
      'feedback.submitted.v1',
      'complaint.acknowledged.v1',
      'complaint.routed.v1',
    ]);
  });

  it('answers 404 for a customer without events, 400 naming each bad parameter, 401 without a key', async () => {
    const unknown = await journey(`cust-${run}-nobody`, { minPosition: position });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ status: 'not_found', errors: [{ field: 'id' }] });

    const bad = await journey(ANA, { limit: '1001', cursor: 'not-a-cursor', from: '2025-02-30', to: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.body.status).toBe('rejected');
    expect(bad.body.errors!.map((e) => e.field).sort()).toEqual(['cursor', 'from', 'limit', 'to']);
    const backwards = await journey(ANA, { from: '2025-03-15', to: '2025-03-14' });
    expect(backwards.body.errors).toEqual([{ field: 'to', message: 'must be later than from' }]);
    expect((await journey('not a valid id')).body.errors).toEqual([{ field: 'id', message: expect.stringContaining('customer id') }]);
    expect((await journey(ANA, { minPosition: 'soon' })).body.errors).toEqual([{ field: 'minPosition', message: expect.any(String) }]);

    const anonymous = await journey(ANA, {}, null);
    expect(anonymous.status).toBe(401);
    expect((await journey(ANA, {}, INGEST_KEY)).status).toBe(403);
  });

  it('answers 503 with Retry-After when the journey cannot reach minPosition in time', async () => {
    const reply = await journey(ANA, { minPosition: (BigInt(position) + 1_000_000n).toString() });
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('1');
  }, 15_000);
});
