import { generateJourneys, startTestApp, type TestApp, testBackend } from '@cx/testing';

const KEYS = { ingest: 'projections-e2e-ingest-0123456789', read: 'projections-e2e-read-0123456789', ops: 'projections-e2e-ops-0123456789' };
const API_KEYS = `${KEYS.ingest}:ingest,${KEYS.read}:read,${KEYS.ops}:ops`;
const NAMES = ['customer360', 'satisfaction', 'changes', 'complaints', 'journey', 'customerValue', 'retentionEpisodes'];

type Json = Record<string, unknown>;
type Reply = { status: number; body: Json };
type State = { name: string; status: string; position: string; rebuild?: Json; lastRebuild?: { id: string; status: string; version: number; position: string } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(app: TestApp, method: 'GET' | 'POST', path: string, key: string | null, body?: unknown): Promise<Reply> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
}

const states = async (app: TestApp) => ((await call(app, 'GET', '/v1/projections', KEYS.read)).body as { projections: State[] }).projections;
const requestedRows = async (app: TestApp) => (await states(app)).filter((s) => s.rebuild);

describe(`projection rebuild and retry API on ${testBackend}`, () => {
  let app: TestApp;
  let head: string;

  beforeAll(async () => {
    app = await startTestApp({ CX_API_KEYS: API_KEYS, CX_TIER_INTERVAL_MINUTES: '0', CX_RETENTION_ALERT_INTERVAL_SECONDS: '0' });
    const events = generateJourneys({ customers: 30, days: 20, seed: 5, start: new Date('2025-02-01T00:00:00Z') });
    for (let i = 0; i < events.length; i += 500) {
      const reply = await fetch(`${app.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${KEYS.ingest}` },
        body: JSON.stringify(events.slice(i, i + 500)),
      });
      head = ((await reply.json()) as { position: string }).position;
    }
    const deadline = Date.now() + 30_000;
    while ((await states(app)).some((s) => BigInt(s.position) < BigInt(head))) {
      if (Date.now() > deadline) throw new Error('the projections did not catch up');
      await sleep(50);
    }
  }, 90_000);

  afterAll(async () => {
    await app?.close();
  });

  it('answers 401 without a key and 403 for a key without the ops scope, changing nothing', async () => {
    for (const [path, body] of [
      ['/v1/projections/journey/rebuild', undefined],
      ['/v1/projections/rebuild', { projections: ['journey'] }],
      ['/v1/projections/journey/retry', undefined],
    ] as const) {
      expect((await call(app, 'POST', path, null, body)).status).toBe(401);
      expect((await call(app, 'POST', path, KEYS.read, body)).status).toBe(403);
      expect((await call(app, 'POST', path, KEYS.ingest, body)).status).toBe(403);
    }
    expect(await requestedRows(app)).toEqual([]);
  });

  it('answers 404 naming the known projections for an unknown one, and 400 for a malformed list, changing nothing', async () => {
    const unknown = await call(app, 'POST', '/v1/projections/nope/rebuild', KEYS.ops);
    expect(unknown).toEqual({
      status: 404,
      body: { status: 'not_found', errors: [{ field: 'name', message: `unknown projection "nope"; known: ${NAMES.join(', ')}` }], known: NAMES },
    });
    expect((await call(app, 'POST', '/v1/projections/nope/retry', KEYS.ops)).status).toBe(404);
    const mixed = await call(app, 'POST', '/v1/projections/rebuild', KEYS.ops, { projections: ['journey', 'nope'] });
    expect(mixed.status).toBe(404);
    expect(mixed.body.errors).toEqual([{ field: 'projections', message: expect.stringContaining('unknown projection "nope"') }]);
    for (const body of [{ projections: 'journey' }, { projections: [] }, { projections: [1] }, { names: ['journey'] }, ['journey']]) {
      const bad = await call(app, 'POST', '/v1/projections/rebuild', KEYS.ops, body);
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([{ field: 'projections', message: expect.stringContaining('non-empty array of projection names') }]);
    }
    expect(await requestedRows(app)).toEqual([]);
  });

  it('rebuilds a projection blue/green: 202, progress in the list, then the outcome; retry of a running projection is 409', async () => {
    const before = (await states(app)).find((s) => s.name === 'journey')!;
    const accepted = await call(app, 'POST', '/v1/projections/journey/rebuild', KEYS.ops);
    expect(accepted.status).toBe(202);
    const [rebuild] = (accepted.body as { rebuilds: Array<{ projection: string; id: string; status: string; version: number }> }).rebuilds;
    expect(rebuild).toMatchObject({ projection: 'journey', status: expect.stringMatching(/^(requested|running)$/), version: 2 });

    let journey: State | undefined;
    const deadline = Date.now() + 60_000;
    for (;;) {
      journey = (await states(app)).find((s) => s.name === 'journey');
      if (journey?.rebuild) expect(journey.rebuild).toMatchObject({ id: rebuild.id, status: expect.any(String), phase: expect.any(String), position: expect.any(String) });
      if (journey?.lastRebuild?.id === rebuild.id && !journey.rebuild) break;
      if (Date.now() > deadline) throw new Error('the rebuild did not end');
      await sleep(20);
    }
    expect(journey.lastRebuild).toMatchObject({ status: 'done', version: 2 });
    expect(BigInt(journey.lastRebuild!.position)).toBeGreaterThanOrEqual(BigInt(before.position));
    expect(journey.status).toBe('running');

    const retry = await call(app, 'POST', '/v1/projections/journey/retry', KEYS.ops);
    expect(retry).toEqual({ status: 409, body: { status: 'conflict', errors: [{ field: 'name', message: 'projection journey is running, not failed: nothing to retry' }] } });
  });

  it('rebuilds several projections in one pass when asked together', async () => {
    const accepted = await call(app, 'POST', '/v1/projections/rebuild', KEYS.ops, { projections: ['complaints', 'satisfaction'] });
    expect(accepted.status).toBe(202);
    const ids = (accepted.body as { rebuilds: Array<{ id: string }> }).rebuilds.map((r) => r.id);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const two = (await states(app)).filter((s) => s.name === 'complaints' || s.name === 'satisfaction');
      if (two.every((s) => !s.rebuild && ids.includes(s.lastRebuild?.id ?? ''))) {
        expect(two.map((s) => s.lastRebuild!.status)).toEqual(['done', 'done']);
        expect(two[0].lastRebuild!.position).toBe(two[1].lastRebuild!.position);
        break;
      }
      if (Date.now() > deadline) throw new Error('the rebuild did not end');
      await sleep(20);
    }
  });

  it('in a process that folds nothing (the query app), records the request for the projector and answers 409 to a second one', async () => {
    const query = await startTestApp({ CX_API_KEYS: API_KEYS }, 'dist/apps/query/src/main.js');
    try {
      const first = await call(query, 'POST', '/v1/projections/customer360/rebuild', KEYS.ops);
      expect(first.status).toBe(202);
      const [requested] = (first.body as { rebuilds: Array<{ id: string; status: string }> }).rebuilds;
      expect(requested.status).toBe('requested');
      const second = await call(query, 'POST', '/v1/projections/rebuild', KEYS.ops, { projections: ['journey', 'customer360'] });
      expect(second).toEqual({
        status: 409,
        body: { status: 'conflict', errors: [{ field: 'projections', message: expect.stringContaining(`a rebuild of customer360 is already requested (rebuild ${requested.id}`) }] },
      });
      expect((await call(query, 'POST', '/v1/projections/customer360/rebuild', KEYS.ops)).status).toBe(409);
    } finally {
      await query.close();
    }
  });
});
