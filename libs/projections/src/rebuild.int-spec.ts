import { createMomentCatalogue } from '@cx/domain';
import { type EventToAppend, PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, PiiVault } from '@cx/platform';
import { generateJourneys, lastCommittedPosition, openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Projection } from './projection.js';
import { NotFailedError, ProjectionRunner, type ProjectionRunnerOptions, UnknownProjectionError } from './projection-runner.js';
import { projectionMigrations } from './projections.migrations.js';
import { readModelSchema } from './projections.module.js';
import { allProjections } from './read-models/index.js';
import { CHANGE_RECORDED, changeStreamId } from './read-models/satisfaction/change.events.js';
import { AlertDispatcher } from './retention/alert.dispatcher.js';
import { RebuildConflictError } from './rebuild-requests.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** A projection whose fold raises on events flagged `explode` while `broken` is set: a bug, then its fix. */
const fuse = { broken: true };
const fragile: Projection = {
  name: 'spec_fragile',
  version: 1,
  handles: ['moment.recorded.v1'],
  tables: ['spec_fragile_rows'],
  migrations: [{ id: '0901_spec_fragile', sql: 'CREATE TABLE spec_fragile_rows (stream_id text PRIMARY KEY, events integer NOT NULL)' }],
  entities: [],
  async apply(events, manager) {
    for (const event of events) {
      if (fuse.broken && (event.data as { explode?: boolean }).explode) throw new Error(`cannot fold ${event.id}`);
      await manager.query(
        `INSERT INTO spec_fragile_rows (stream_id, events) VALUES ($1, 1) ON CONFLICT (stream_id) DO UPDATE SET events = spec_fragile_rows.events + 1`,
        [event.streamId],
      );
    }
  },
};

describe(`blue/green rebuilds on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let ingest: IngestService;
  const runners: ProjectionRunner[] = [];

  const runner = (options: Partial<ProjectionRunnerOptions> = {}) => {
    const created = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: allProjections,
      lease: testBackend === 'postgres',
      batchSize: 100,
      leaseRetryMs: 100,
      requestPollMs: 100,
      ...options,
    });
    runners.push(created);
    return created;
  };
  const stopAll = async () => {
    for (const r of runners.splice(0)) await r.stop();
  };

  /** Every row of every table of the read models, in a stable order. */
  async function snapshot(projections: readonly Projection[] = allProjections): Promise<Record<string, unknown[]>> {
    const tables: Record<string, unknown[]> = {};
    for (const table of projections.flatMap((p) => p.tables)) {
      const { rows } = await database.pool.query(`SELECT * FROM ${table}`);
      tables[table] = rows.map((row) => JSON.stringify(row)).sort();
    }
    return tables;
  }

  const caughtUp = (r: ProjectionRunner, names?: readonly string[]) => async () => {
    const target = await lastCommittedPosition(database.pool);
    return (await r.lowestPosition(names)) >= target;
  };

  async function rebuilt(r: ProjectionRunner, names: readonly string[], ids: readonly string[]): Promise<void> {
    await until(async () => {
      const states = (await r.states()).filter((s) => names.includes(s.name));
      return states.every((s) => !s.rebuild && s.lastRebuild && ids.includes(s.lastRebuild.id));
    }, `the rebuild of ${names.join(', ')}`);
  }

  async function ingestAll(events: readonly unknown[]): Promise<void> {
    for (let i = 0; i < events.length; i += 500) {
      const outcome = await ingest.ingest(events.slice(i, i + 500), { correlationId: 'rebuild-spec' });
      expect(outcome.rejected).toBe(0);
    }
  }

  beforeAll(async () => {
    database = await openTestDatabase({
      migrations: [...readModelSchema.migrations, ...fragile.migrations],
      entities: readModelSchema.entities,
    });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
    const vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
    ingest = new IngestService(store, vault, createMomentCatalogue());

    // Generated journeys, the retention saga's alerts among them, and two dated changes.
    const journeys = generateJourneys({ customers: 160, days: 40, seed: 11, start: new Date('2025-01-01T00:00:00Z') });
    const half = Math.floor(journeys.length / 2);
    await ingestAll(journeys.slice(0, half));
    const live = runner();
    await live.start();
    await until(caughtUp(live), 'the first half folded live');
    const alerts = await new AlertDispatcher(store, database.pool, { alertMaxAgeHours: 0 }).run(new Date('2025-01-25T00:00:00Z'));
    expect(alerts.length).toBeGreaterThan(0);
    for (const change of ['new IVR menu', 'branch hours']) {
      const id = randomUUID();
      const event: EventToAppend = {
        id: randomUUID(),
        type: CHANGE_RECORDED,
        data: { changeId: id, name: change, effectiveAt: '2025-01-20T00:00:00.000Z', kinds: ['payment', 'billing'] },
      };
      await store.append(changeStreamId(id), [event], 'no_stream');
    }
    await ingestAll(journeys.slice(half));
    await until(caughtUp(live), 'the whole log folded live');
    await stopAll();
  }, 300_000);

  afterEach(stopAll);
  afterAll(async () => {
    await store.close();
    await database.close();
  });

  it('rebuilds every projection in one pass into the very rows the live fold made, table by table', async () => {
    const live = await snapshot();
    expect(Number((await database.pool.query('SELECT count(*) AS n FROM cx_events')).rows[0].n)).toBeGreaterThan(3_000);
    for (const table of ['rm_customers', 'rm_moments', 'rm_feedback', 'rm_complaints', 'rm_journey', 'rm_retention_episodes', 'rm_changes', 'rm_customer_payments']) {
      expect(live[table].length).toBeGreaterThan(0);
    }
    const generations = (await database.pool.query('SELECT name, generation FROM cx_projection_checkpoints')).rows;

    const r = runner({ rebuild: { batchSize: 400 } });
    await r.start();
    const rows = await r.requestRebuild(allProjections.map((p) => p.name));
    await rebuilt(r, allProjections.map((p) => p.name), rows.map((row) => row.id));

    const states = await r.states();
    for (const state of states) {
      expect(state.lastRebuild).toMatchObject({ status: 'done', version: allProjections.find((p) => p.name === state.name)!.version });
      expect(state.status).toBe('running');
    }
    expect(await snapshot()).toEqual(live);
    // The switch moved every checkpoint's generation; the old tables and the rebuild schemas go right after.
    for (const row of (await database.pool.query('SELECT name, generation FROM cx_projection_checkpoints')).rows) {
      const before = generations.find((g) => g.name === row.name);
      if (before) expect(row.generation).toBe(before.generation + 1);
    }
    const leftovers = async () =>
      (await database.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'cx\\_rebuild\\_%' OR nspname LIKE 'cx\\_retired\\_%'`)).rows;
    await until(async () => (await leftovers()).length === 0, 'the old tables dropped after the switch', 10_000);
  });

  it('gives the same rows when the bulk folds run out of room midway and apply takes over', async () => {
    const live = await snapshot();
    const r = runner({ rebuild: { batchSize: 300, maxHeld: 150 } });
    await r.start();
    const names = ['customer360', 'retentionEpisodes', 'satisfaction', 'complaints'];
    const rows = await r.requestRebuild(names);
    await rebuilt(r, names, rows.map((row) => row.id));
    expect(await snapshot()).toEqual(live);
  });

  it('folds the odd cases of satisfaction as apply does: a moment id seen twice, answers before their moment or to another customer\'s', async () => {
    const r = runner();
    await r.start();
    const tag = randomUUID().slice(0, 8);
    const moment = (momentId: string, customerId: string, kind: string, at: string): EventToAppend => ({
      id: randomUUID(),
      type: 'moment.recorded.v1',
      data: { momentId, customerId, kind, channel: 'phone', area: 'billing', occurredAt: at },
    });
    const answer = (customerId: string, momentId: string | undefined, nps: number, at: string): EventToAppend => ({
      id: randomUUID(),
      type: 'feedback.submitted.v1',
      data: { customerId, ...(momentId ? { momentId } : {}), nps, submittedAt: at },
    });
    const [ana, bea] = [`ana-${tag}`, `bea-${tag}`];
    await store.append(`customer-${ana}`, [
      answer(ana, `m1-${tag}`, 9, '2025-03-01T10:00:00Z'), // before its moment
      answer(bea, `m1-${tag}`, 3, '2025-03-01T10:01:00Z'), // to a moment that turns out to be ana's
      answer(ana, `m9-${tag}`, 5, '2025-03-01T10:02:00Z'), // its moment never comes
      answer(ana, undefined, 7, '2025-03-01T10:03:00Z'), // rates no moment
      moment(`m1-${tag}`, ana, 'billing', '2025-03-01T09:00:00Z'),
      moment(`m1-${tag}`, bea, 'payment', '2025-03-01T09:30:00Z'), // the same id again: the first stays
      answer(ana, `m1-${tag}`, 8, '2025-03-01T11:00:00Z'),
      answer(bea, `m1-${tag}`, 2, '2025-03-01T11:01:00Z'),
    ]);
    await until(caughtUp(r, ['satisfaction']), 'satisfaction folded live');
    const satisfaction = [allProjections.find((p) => p.name === 'satisfaction')!];
    const live = await snapshot(satisfaction);
    const mine = (await database.pool.query(`SELECT customer_id, nps, kind FROM rm_feedback WHERE customer_id IN ($1, $2) ORDER BY submitted_at`, [ana, bea])).rows;
    expect(mine).toEqual([
      { customer_id: ana, nps: 9, kind: 'billing' },
      { customer_id: bea, nps: 3, kind: null },
      { customer_id: ana, nps: 5, kind: null },
      { customer_id: ana, nps: 7, kind: null },
      { customer_id: ana, nps: 8, kind: 'billing' },
      { customer_id: bea, nps: 2, kind: null },
    ]);
    const [request] = await r.requestRebuild(['satisfaction']);
    await rebuilt(r, ['satisfaction'], [request.id]);
    expect(await snapshot(satisfaction)).toEqual(live);
  });

  it('keeps answering queries from whole tables while rebuilding, with events arriving, then switches to tables that have them all', async () => {
    const r = runner({ rebuild: { batchSize: 200 } });
    await r.start();
    const growing = ['rm_journey', 'rm_moments', 'rm_feedback', 'rm_customers'];
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const table of growing) out[table] = Number((await database.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
      return out;
    };
    let last = await counts();
    const more = generateJourneys({ customers: 40, days: 10, seed: 12, start: new Date('2025-02-10T00:00:00Z') });
    const rows = await r.requestRebuild(['journey', 'satisfaction', 'customer360']);
    let reads = 0;
    let sent = 0;
    let done = false;
    const rebuilding = rebuilt(r, ['journey', 'satisfaction', 'customer360'], rows.map((row) => row.id)).finally(() => (done = true));
    while (!done) {
      if (sent < more.length) {
        await ingest.ingest(more.slice(sent, sent + 50), { correlationId: 'rebuild-spec-live' });
        sent += 50;
      }
      const now = await counts();
      for (const table of growing) {
        expect(now[table]).toBeGreaterThan(0);
        expect(now[table]).toBeGreaterThanOrEqual(last[table]);
      }
      last = now;
      reads++;
    }
    await rebuilding;
    expect(reads).toBeGreaterThan(1);
    await ingestAll(more.slice(sent));
    await until(caughtUp(r), 'the live projections after the switch');
    const afterSwitch = await snapshot();

    // What the switched tables hold, with events that came during the rebuild, is what a quiet rebuild gives.
    const names = allProjections.map((p) => p.name);
    const again = await r.requestRebuild(names);
    await rebuilt(r, names, again.map((row) => row.id));
    expect(await snapshot()).toEqual(afterSwitch);
  });

  it('refuses an unknown projection and a second rebuild of one already requested, changing nothing', async () => {
    // A process that does not run the projections (a query app): requests wait for the one that does.
    const querySide = runner();
    await expect(querySide.requestRebuild(['nope'])).rejects.toThrow(UnknownProjectionError);
    await expect(querySide.requestRebuild(['nope'])).rejects.toThrow('known: customer360, satisfaction');
    const [first] = await querySide.requestRebuild(['journey']);
    expect(first).toMatchObject({ projection: 'journey', status: 'requested' });
    await expect(querySide.requestRebuild(['journey', 'complaints'])).rejects.toThrow(RebuildConflictError);
    await expect(querySide.requestRebuild(['complaints', 'journey'])).rejects.toThrow(`a rebuild of journey is already requested (rebuild ${first.id}`);
    expect((await database.pool.query(`SELECT count(*) AS n FROM cx_projection_rebuilds WHERE projection = 'complaints' AND status = 'requested'`)).rows[0].n).toBe('0');

    // The process that runs the projection picks the request up.
    const before = await snapshot([allProjections.find((p) => p.name === 'journey')!]);
    const worker = runner();
    await worker.start();
    await rebuilt(worker, ['journey'], [first.id]);
    expect(await snapshot([allProjections.find((p) => p.name === 'journey')!])).toEqual(before);
  });

  it('stops a projection at the event its code cannot fold, fails its rebuild without touching it, and resumes on retry once fixed', async () => {
    const r = runner({ projections: [fragile] });
    await r.start();
    const stream = `customer-fragile-${randomUUID()}`;
    const appended = await store.append(stream, [
      { id: randomUUID(), type: 'moment.recorded.v1', data: {} },
      { id: randomUUID(), type: 'moment.recorded.v1', data: { explode: true } },
      { id: randomUUID(), type: 'moment.recorded.v1', data: {} },
    ]);
    const failing = appended.events[1].position;
    await until(async () => (await r.states())[0].status === 'failed', 'the failure');
    let [state] = await r.states();
    expect(state.error).toEqual({ position: failing.toString(), message: expect.stringContaining('cannot fold') });
    expect(state.position).toBe(appended.events[0].position.toString());

    // A rebuild meets the same event: it fails, and the failed projection stays as it was.
    const [request] = await r.requestRebuild(['spec_fragile']);
    await rebuilt(r, ['spec_fragile'], [request.id]);
    [state] = await r.states();
    expect(state.lastRebuild).toMatchObject({ status: 'failed', error: expect.stringContaining('cannot fold') });
    expect(state).toMatchObject({ status: 'failed', error: { position: failing.toString() } });
    const rows = async () => (await database.pool.query('SELECT events FROM spec_fragile_rows WHERE stream_id = $1', [stream])).rows;
    expect(await rows()).toEqual([{ events: 1 }]);

    // Fixed: a retry (as a request any process can make) resumes at the failed event.
    fuse.broken = false;
    expect(await r.requestRetry('spec_fragile')).toEqual({ status: 'retrying' });
    await until(async () => BigInt((await r.states())[0].position) >= appended.position, 'the retried projection');
    [state] = await r.states();
    expect(state.status).toBe('running');
    expect(state.error).toBeUndefined();
    expect(await rows()).toEqual([{ events: 3 }]);
    await expect(r.requestRetry('spec_fragile')).rejects.toThrow(NotFailedError);
    await expect(r.requestRetry('nope')).rejects.toThrow(UnknownProjectionError);
  });
});
