import { startTestApp, type TestApp, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';

const INGEST_KEY = 'ingest-key-satisfaction-0123456789';
const READ_KEY = 'read-key-satisfaction-0123456789';
const OPS_KEY = 'ops-key-satisfaction-0123456789';

type Json = Record<string, unknown>;
type Reply = { status: number; body: Json & { errors?: Array<{ field: string; message: string }> }; headers: Headers };

let app: TestApp;

async function call(method: 'GET' | 'POST', path: string, key: string | null, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${app.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
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

describe(`satisfaction and change impact API end to end on ${testBackend}`, () => {
  const customer = 'cust-sat-e2e';
  let position: string;

  beforeAll(async () => {
    app = await startTestApp({ CX_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read,${OPS_KEY}:ops` });

    const call1 = ce('cx.moment.recorded', customer, '2025-01-06T09:00:00Z', { kind: 'billing', channel: 'phone', waitSeconds: 100 });
    const call2 = ce('cx.moment.recorded', customer, '2025-01-06T13:00:00Z', { kind: 'billing', channel: 'phone', waitSeconds: 300 });
    const visit = ce('cx.moment.recorded', customer, '2025-01-06T11:00:00Z', { kind: 'advice', channel: 'branch', waitSeconds: 50, waitExplained: true });
    const batch = [
      call1,
      ce('cx.feedback.submitted', customer, '2025-01-06T10:00:00Z', { nps: 10, momentId: call1.id }),
      // The answer to the second call arrives before the call itself.
      ce('cx.feedback.submitted', customer, '2025-01-06T14:00:00Z', { nps: 6, momentId: call2.id }),
      call2,
      visit,
      ce('cx.feedback.submitted', customer, '2025-01-06T11:30:00Z', { nps: 8, csat: 4, momentId: visit.id }),
      ce('cx.feedback.submitted', customer, '2025-01-06T15:00:00Z', { nps: 9, comment: 'Todo bien' }),
    ];
    const ingested = await call('POST', '/v1/events', INGEST_KEY, batch);
    expect(ingested.status).toBe(200);
    expect(ingested.body).toMatchObject({ rejected: 0 });
    position = ingested.body.position as string;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  describe('GET /v1/metrics/satisfaction', () => {
    it('answers the metrics of what was just ingested, grouped by kind, each answer under the moment it rates', async () => {
      const reply = await call('GET', `/v1/metrics/satisfaction?from=2025-01-06&to=2025-01-07&groupBy=kind&minPosition=${position}`, READ_KEY);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ from: '2025-01-06T00:00:00.000Z', to: '2025-01-07T00:00:00.000Z', interval: 'day', groupBy: ['kind'] });
      expect(reply.body.rows).toEqual([
        // The visit: one passive (8) -> NPS 0; CSAT 4 -> 100%; waited 50 s, explained.
        expect.objectContaining({ bucket: '2025-01-06T00:00:00.000Z', kind: 'advice', responses: 1, passives: 1, nps: 0, csatPct: 100, moments: 1, waitP50: 50, waitExplainedPct: 100 }),
        // The calls: 10 and 6 -> one promoter, one detractor: NPS 0; waits 100, 300: p50 200, p90 100 + 0.9 * 200 = 280.
        expect.objectContaining({ kind: 'billing', responses: 2, promoters: 1, detractors: 1, nps: 0, csatPct: null, moments: 2, waitP50: 200, waitP90: 280 }),
        // The answer that rates no moment.
        expect.objectContaining({ kind: null, responses: 1, promoters: 1, nps: 100, moments: 0, waitP50: null }),
      ]);
    });

    it('takes minPosition from the X-Cx-Min-Position header too, and answers 503 with Retry-After for a position not reached', async () => {
      const ok = await fetch(`${app.url}/v1/metrics/satisfaction?from=2025-01-06&to=2025-01-07&interval=week`, {
        headers: { authorization: `Bearer ${READ_KEY}`, 'x-cx-min-position': position },
      });
      expect(ok.status).toBe(200);
      // Week of Monday 6 January: 4 NPS answers, 2 promoters and 1 detractor: (2 - 1) / 4 = 25.
      expect(((await ok.json()) as { rows: Json[] }).rows).toEqual([expect.objectContaining({ bucket: '2025-01-06T00:00:00.000Z', responses: 4, nps: 25, moments: 3 })]);

      const ahead = await call('GET', `/v1/metrics/satisfaction?minPosition=${BigInt(position) + 1_000_000n}`, READ_KEY);
      expect(ahead.status).toBe(503);
      expect(ahead.headers.get('retry-after')).toBe('1');
    }, 15_000);

    it('answers 400 naming each bad parameter', async () => {
      const reply = await call('GET', '/v1/metrics/satisfaction?from=2025-02-01&to=2025-01-01&interval=hour&groupBy=kind,agent', READ_KEY);
      expect(reply.status).toBe(400);
      expect(reply.body.status).toBe('rejected');
      expect(reply.body.errors?.map((e) => e.field)).toEqual(['to', 'interval', 'groupBy']);
      expect((await call('GET', '/v1/metrics/satisfaction?from=soon', READ_KEY)).body.errors).toEqual([{ field: 'from', message: expect.stringContaining('RFC 3339') }]);
      expect((await call('GET', '/v1/metrics/satisfaction?minPosition=abc', READ_KEY)).status).toBe(400);
    });

    it('needs a key with the read scope', async () => {
      expect((await call('GET', '/v1/metrics/satisfaction', null)).status).toBe(401);
      expect((await call('GET', '/v1/metrics/satisfaction', 'not-a-key-at-all-0123456789')).status).toBe(401);
      expect((await call('GET', '/v1/metrics/satisfaction', INGEST_KEY)).status).toBe(403);
    });
  });

  describe('change impact', () => {
    it('records a change (ops) and compares before and after it per kind and channel', async () => {
      const created = await call('POST', '/v1/changes', OPS_KEY, {
        name: 'Callback instead of hold',
        effectiveAt: '2025-01-06T13:00:00+01:00',
        kinds: ['billing'],
        description: 'The IVR offers a callback when the wait exceeds two minutes.',
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Callback instead of hold',
        effectiveAt: '2025-01-06T12:00:00.000Z',
        kinds: ['billing'],
        channels: null,
        description: 'The IVR offers a callback when the wait exceeds two minutes.',
        position: expect.stringMatching(/^\d+$/),
      });

      const impact = await call('GET', `/v1/changes/${created.body.id}/impact?windowDays=1&minPosition=${created.body.position}`, READ_KEY);
      expect(impact.status).toBe(200);
      expect(impact.body).toMatchObject({
        change: { id: created.body.id, name: 'Callback instead of hold', kinds: ['billing'], channels: null },
        windowDays: 1,
        before: { from: '2025-01-05T12:00:00.000Z', to: '2025-01-06T12:00:00.000Z' },
        after: { from: '2025-01-06T12:00:00.000Z', to: '2025-01-07T12:00:00.000Z' },
        afterWindowComplete: true,
      });
      // Only billing answers count (the advice visit and the unattributed answer do not): 10 at 10:00 before, 6 at 14:00 after.
      expect(impact.body.segments).toEqual([
        {
          kind: 'billing',
          channel: 'phone',
          channelGroup: 'telephone',
          nps: { before: 100, after: -100, nBefore: 1, nAfter: 1, difference: -200, ci95: null, significant: false },
          csatPct: { before: null, after: null, nBefore: 0, nAfter: 0, difference: null, ci95: null, significant: false },
          cesMean: { before: null, after: null, nBefore: 0, nAfter: 0, difference: null, ci95: null, significant: false },
        },
      ]);
    });

    it('refuses a change without the ops scope, and an invalid one naming every field', async () => {
      const body = { name: 'x', effectiveAt: '2025-01-01T00:00:00Z' };
      expect((await call('POST', '/v1/changes', null, body)).status).toBe(401);
      expect((await call('POST', '/v1/changes', READ_KEY, body)).status).toBe(403);

      const invalid = await call('POST', '/v1/changes', OPS_KEY, { name: '  ', effectiveAt: 'tomorrow', kinds: ['teleportation'], channels: ['pigeon'], colour: 'red' });
      expect(invalid.status).toBe(400);
      expect(invalid.body.status).toBe('rejected');
      expect([...new Set(invalid.body.errors?.map((e) => e.field))].sort()).toEqual(['channels', 'colour', 'effectiveAt', 'kinds', 'name']);
      expect(invalid.body.errors).toContainEqual({ field: 'kinds', message: expect.stringContaining('unknown moment kind "teleportation"') });

      const missing = await call('POST', '/v1/changes', OPS_KEY, {});
      expect(missing.body.errors?.map((e) => e.field)).toEqual(expect.arrayContaining(['name', 'effectiveAt']));
      expect((await call('POST', '/v1/changes', OPS_KEY, ['not', 'an', 'object'])).status).toBe(400);
    });

    it('answers 404 for an unknown change and 400 for a window out of 1..365 days', async () => {
      const unknown = await call('GET', `/v1/changes/${randomUUID()}/impact`, READ_KEY);
      expect(unknown.status).toBe(404);
      expect(unknown.body.status).toBe('not_found');
      for (const windowDays of ['0', '366', '7.5', 'week']) {
        const reply = await call('GET', `/v1/changes/${randomUUID()}/impact?windowDays=${windowDays}`, READ_KEY);
        expect(reply.status).toBe(400);
        expect(reply.body.errors).toEqual([{ field: 'windowDays', message: 'must be a whole number of days from 1 to 365' }]);
      }
      expect((await call('GET', `/v1/changes/${randomUUID()}/impact`, INGEST_KEY)).status).toBe(403);
    });
  });
});
