import { startTestApp, type TestApp, testBackend } from '@cx/testing';
import { randomUUID } from 'node:crypto';
import { allProjections } from '../read-models/index.js';
import { RETENTION_EPISODES } from './retention-episodes.projection.js';

const INGEST_KEY = 'ingest-key-retention-0123456789';
const READ_KEY = 'read-key-retention-0123456789';
const OPS_KEY = 'ops-key-retention-0123456789';
const DAY_MS = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Json = Record<string, unknown>;
type Reply = { status: number; body: Json & { errors?: Array<{ field: string; message: string }> } };

let app: TestApp;

async function call(method: 'GET' | 'POST', path: string, key: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${app.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

const ce = (type: string, subject: string, time: Date, data: Json): Json => ({
  specversion: '1.0',
  id: `${type}-${randomUUID()}`,
  source: 'urn:cx:e2e',
  type,
  subject,
  time: time.toISOString(),
  data,
});

async function ingest(...events: Json[]): Promise<string> {
  const reply = await call('POST', '/v1/events', INGEST_KEY, events);
  expect(reply.status).toBe(200);
  expect(reply.body).toMatchObject({ rejected: 0 });
  return reply.body.position as string;
}

// Runs once the lead has listed the retention folder among the read models (and its providers in ProjectionsModule).
const wired = allProjections.some((p) => p.name === RETENTION_EPISODES);

(wired ? describe : describe.skip)(`retention end to end on ${testBackend}`, () => {
  const ana = `ana-ret-${randomUUID().slice(0, 8)}`;
  const ben = `ben-ret-${randomUUID().slice(0, 8)}`;
  const now = Date.now();
  const ago = (days: number) => new Date(now - days * DAY_MS);

  beforeAll(async () => {
    app = await startTestApp({
      CX_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read,${OPS_KEY}:ops`,
      CX_TIER_INTERVAL_MINUTES: '0',
      CX_RETENTION_ALERT_INTERVAL_SECONDS: '1',
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  it('recomputes tiers on demand (scope ops), once, and alerts once when the new A customer answers as a detractor', async () => {
    const paid = await ingest(
      ce('cx.customer.registered', ana, ago(30), { name: 'Ana' }),
      ce('cx.customer.registered', ben, ago(30), { name: 'Ben' }),
      ce('cx.moment.recorded', ana, ago(10), { kind: 'payment', channel: 'web', amount: 900, currency: 'EUR' }),
      ce('cx.moment.recorded', ben, ago(9), { kind: 'payment', channel: 'app', amount: 100, currency: 'EUR' }),
    );

    expect((await call('POST', `/v1/retention/tiers/recompute?minPosition=${paid}`, READ_KEY)).status).toBe(403);
    const recomputed = await call('POST', `/v1/retention/tiers/recompute?minPosition=${paid}`, OPS_KEY);
    expect(recomputed.status).toBe(200);
    // Total 1000 EUR; 80% = 800. ana: nothing above, A. ben: 900 above >= 800, < 950: B.
    expect(recomputed.body.changes).toEqual([
      { customerId: ana, from: 'C', to: 'A', reason: 'value 900.00 EUR in the last 365 days: top 80%', value: '900.00', position: expect.any(String) },
      { customerId: ben, from: 'C', to: 'B', reason: 'value 100.00 EUR in the last 365 days: top 95%', value: '100.00', position: expect.any(String) },
    ]);
    const customer = await call('GET', `/v1/customers/${ana}?minPosition=${recomputed.body.position as string}`, READ_KEY);
    expect(customer.body).toMatchObject({ tier: 'A', atRisk: false });
    expect((await call('POST', '/v1/retention/tiers/recompute', OPS_KEY)).body.changes).toEqual([]);

    const answered = await ingest(ce('cx.feedback.submitted', ana, new Date(), { nps: 2 }));
    const deadline = Date.now() + 20_000;
    let episodes: Json[] = [];
    while (Date.now() < deadline) {
      const reply = await call('GET', `/v1/retention/episodes?customerId=${ana}&minPosition=${answered}`, READ_KEY);
      expect(reply.status).toBe(200);
      episodes = reply.body.episodes as Json[];
      if ((episodes[0]?.alert as { position: string | null } | undefined)?.position) break;
      await sleep(200);
    }
    expect(episodes).toEqual([
      {
        customerId: ana,
        episode: 1,
        episodeId: expect.any(String),
        tier: 'A',
        reasons: ['detractor'],
        raisedAt: expect.any(String),
        openedBy: 'event',
        alert: { eventId: expect.any(String), position: expect.stringMatching(/^\d+$/) },
        endedAt: null,
      },
    ]);

    // A second detractor answer while the episode lasts: after a few rounds of the dispatcher, still one alert.
    const again = await ingest(ce('cx.feedback.submitted', ana, new Date(), { nps: 0 }));
    await sleep(2_500);
    const later = await call('GET', `/v1/retention/episodes?customerId=${ana}&minPosition=${again}`, READ_KEY);
    expect((later.body.episodes as Json[]).map((e) => e.episode)).toEqual([1]);
    expect(await call('GET', '/v1/retention/episodes?open=maybe&limit=0', READ_KEY)).toEqual({
      status: 400,
      body: {
        status: 'rejected',
        errors: [
          { field: 'open', message: 'must be true or false' },
          { field: 'limit', message: 'must be an integer from 1 to 500' },
        ],
      },
    });
  }, 60_000);
});
