import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, PiiVault } from '@cx/platform';
import { lastCommittedPosition, openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@cx/event-store';
import { ProjectionRunner } from '../projection-runner.js';
import { projectionMigrations } from '../projections.migrations.js';
import { customer360Projection } from '../read-models/customer-360/customer-360.projection.js';
import { Customer360Reader } from '../read-models/customer-360/customer-360.reader.js';
import { AlertDispatcher, type AlertSent } from './alert.dispatcher.js';
import { RETENTION_ALERT_RAISED } from './episode.policy.js';
import { createRetentionEpisodesProjection, RETENTION_EPISODES, retentionEpisodesProjection } from './retention-episodes.projection.js';
import { alertEventId, episodeIdOf } from './retention.ids.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomUUID().slice(0, 8);

let n = 0;
const ce = (type: string, subject: string, time: string, data: Record<string, unknown>) => ({
  specversion: '1.0',
  id: `saga-spec-${run}-${++n}`,
  source: 'urn:cx:spec',
  type,
  subject,
  time,
  data,
});
const register = (subject: string, time: string, tier?: string) => ce('cx.customer.registered', subject, time, { name: `Name of ${subject}`, ...(tier ? { tier } : {}) });
const answer = (subject: string, time: string, nps: number) => ce('cx.feedback.submitted', subject, time, { nps });
const phone = (subject: string, time: string, outcome: string) => ce('cx.moment.recorded', subject, time, { kind: 'information', channel: 'phone', outcome });
const complaint = (step: string, subject: string, complaintId: string, time: string, data: Record<string, unknown> = {}) =>
  ce(`cx.complaint.${step}`, subject, time, { complaintId, ...data });

describe(`retention alert saga on ${testBackend}`, () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let vault: PiiVault;
  let ingest: IngestService;
  let runner: ProjectionRunner;
  let dispatcher: AlertDispatcher;
  const id = (name: string) => `${name}-${run}`;

  const checkpoint = async () =>
    BigInt((await database.pool.query<{ position: string | null }>('SELECT min(position) AS position FROM cx_projection_checkpoints')).rows[0]?.position ?? 0);
  async function caughtUp(target: bigint): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await checkpoint()) < target) {
      if (Date.now() > deadline) throw new Error(`the projections did not reach ${target}`);
      await sleep(20);
    }
  }
  async function send(...events: unknown[]): Promise<void> {
    const outcome = await ingest.ingest(events, { correlationId: `corr-${run}` });
    expect(outcome.results).toEqual(events.map(() => expect.objectContaining({ status: 'accepted' })));
    await caughtUp(BigInt(outcome.position));
  }
  const startRunner = async () => {
    runner = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: [retentionEpisodesProjection, customer360Projection],
      lease: false,
      batchSize: 3,
    });
    await runner.start();
  };
  const alertsOf = async (customer: string) => (await store.readStream(`retention-${id(customer)}`)).filter((e) => e.type === RETENTION_ALERT_RAISED);
  const short = (sent: readonly AlertSent[]) => sent.map((a) => `${a.customerId.replace(`-${run}`, '')} #${a.episode} ${a.status}: ${a.reasons.join(' + ')}`);
  const episodes = async (customer: string) =>
    (
      await database.pool.query<{ episode: number; opened_by: string; raised_at: Date; ended_at: Date | null; alert: boolean }>(
        `SELECT episode, opened_by, raised_at, ended_at, alert_position IS NOT NULL AS alert FROM rm_retention_episodes WHERE customer_id = $1 ORDER BY episode`,
        [id(customer)],
      )
    ).rows.map((r) => `#${r.episode} ${r.opened_by} ${r.raised_at.toISOString()} - ${r.ended_at?.toISOString() ?? 'open'}${r.alert ? ' alerted' : ''}`);

  beforeAll(async () => {
    database = await openTestDatabase({
      migrations: [...projectionMigrations, ...retentionEpisodesProjection.migrations, ...customer360Projection.migrations],
      entities: [...retentionEpisodesProjection.entities, ...customer360Projection.entities],
    });
    store = new PostgresEventStore({ pool: database.pool, notifications: testBackend === 'postgres' ? 'listen' : 'local' });
    vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
    ingest = new IngestService(store, vault, createMomentCatalogue());
    // The events of these tests date from 2025: no age limit on sending.
    dispatcher = new AlertDispatcher(store, database.pool, { alertMaxAgeHours: 0 });
    await startRunner();
  });
  afterAll(async () => {
    await runner?.stop();
    await store.close();
    await database.close();
  });

  it('raises one alert when an A customer answers as a detractor, none for the next detractor, and a second after the episode ended', async () => {
    await send(register(id('ana'), '2025-03-01T00:00:00Z', 'A'), answer(id('ana'), '2025-03-02T10:00:00Z', 3));

    // An alert is not sent for an experience older than the age limit (replaying history).
    const strict = new AlertDispatcher(store, database.pool, { alertMaxAgeHours: 24 });
    expect(await strict.run(new Date('2025-03-10T00:00:00Z'))).toEqual([]);

    const first = await dispatcher.run(new Date('2025-03-02T10:00:05Z'));
    expect(short(first)).toEqual(['ana #1 appended: detractor']);
    const [alert] = await alertsOf('ana');
    expect(alert).toMatchObject({
      id: alertEventId(id('ana'), 1),
      type: 'retention.alert-raised.v1',
      streamId: `retention-${id('ana')}`,
      data: { customerId: id('ana'), episode: 1, episodeId: episodeIdOf(id('ana'), 1), reasons: ['detractor'], tier: 'A', raisedAt: '2025-03-02T10:00:00.000Z' },
      metadata: { correlationId: `corr-${run}` },
    });
    // Its cause is the answer that made the customer at risk.
    const [answered] = (await store.readAll(0n)).filter((e) => e.type === 'feedback.submitted.v1' && (e.data as { customerId: string }).customerId === id('ana'));
    expect(alert.metadata.causationId).toBe(answered.id);
    await caughtUp(alert.position);
    expect(await dispatcher.run(new Date('2025-03-02T10:00:10Z'))).toEqual([]);

    // A second detractor answer in the same episode: no second alert.
    await send(answer(id('ana'), '2025-03-03T10:00:00Z', 1));
    expect(await dispatcher.run(new Date('2025-03-03T10:00:05Z'))).toEqual([]);
    expect(await alertsOf('ana')).toHaveLength(1);

    // A promoter answer ends the episode; the next detractor begins a new one, with its own alert.
    await send(answer(id('ana'), '2025-03-04T10:00:00Z', 10));
    expect(await dispatcher.run(new Date('2025-03-04T10:00:05Z'))).toEqual([]);
    await send(answer(id('ana'), '2025-03-05T10:00:00Z', 2));
    expect(short(await dispatcher.run(new Date('2025-03-05T10:00:05Z')))).toEqual(['ana #2 appended: detractor']);
    expect((await alertsOf('ana')).map((e) => (e.data as { episode: number }).episode)).toEqual([1, 2]);
    await caughtUp(await lastCommittedPosition(database.pool));
    expect(await episodes('ana')).toEqual([
      '#1 event 2025-03-02T10:00:00.000Z - 2025-03-04T10:00:00.000Z alerted',
      '#2 event 2025-03-05T10:00:00.000Z - open alerted',
    ]);
  });

  it('raises an alert for a B customer whose high complaint is unresolved 72 h after filing, as the clock passes the SLA', async () => {
    await send(register(id('bea'), '2025-03-01T00:00:00Z', 'B'), complaint('filed', id('bea'), `K-${run}`, '2025-03-10T00:00:00Z', { category: 'billing', channel: 'phone', severity: 'high' }));
    // High: 72 h, due 03-13 00:00. Not yet past at 03-12 23:00.
    expect(await dispatcher.run(new Date('2025-03-12T23:00:00Z'))).toEqual([]);
    const raised = await dispatcher.run(new Date('2025-03-13T01:00:00Z'));
    expect(raised).toEqual([
      {
        customerId: id('bea'),
        episode: 1,
        episodeId: episodeIdOf(id('bea'), 1),
        tier: 'B',
        reasons: [`complaint K-${run} unresolved past its high SLA`],
        raisedAt: '2025-03-13T01:00:00.000Z',
        openedBy: 'sla-check',
        status: 'appended',
        position: expect.stringMatching(/^\d+$/),
      },
    ]);
    // The same reasons the customer 360 view gives at that instant.
    await caughtUp(BigInt(raised[0].position));
    const view = await new Customer360Reader(database.dataSource, vault).one(id('bea'), new Date('2025-03-13T01:00:00Z'));
    expect(view?.riskReasons).toEqual(raised[0].reasons);
    // The alert opened the episode: an hour later, and with new reasons, nothing more.
    await send(phone(id('bea'), '2025-03-13T01:30:00Z', 'negative'));
    expect(await dispatcher.run(new Date('2025-03-13T02:00:00Z'))).toEqual([]);
    // Resolved, and the call that went badly followed by one that went well: the episode ends.
    await send(
      complaint('acknowledged', id('bea'), `K-${run}`, '2025-03-13T09:00:00Z'),
      complaint('routed', id('bea'), `K-${run}`, '2025-03-13T10:00:00Z', { area: 'billing' }),
      complaint('resolved', id('bea'), `K-${run}`, '2025-03-14T00:00:00Z', { resolution: 'refund' }),
      phone(id('bea'), '2025-03-14T01:00:00Z', 'positive'),
    );
    expect(await episodes('bea')).toEqual(['#1 sla-check 2025-03-13T01:00:00.000Z - 2025-03-14T01:00:00.000Z alerted']);
    expect(await dispatcher.run(new Date('2025-03-20T00:00:00Z'))).toEqual([]);
    expect(await alertsOf('bea')).toHaveLength(1);
  });

  it('raises nothing for a C customer, whatever happens', async () => {
    await send(
      register(id('cid'), '2025-03-01T00:00:00Z'),
      answer(id('cid'), '2025-03-02T00:00:00Z', 0),
      phone(id('cid'), '2025-03-02T01:00:00Z', 'negative'),
      complaint('filed', id('cid'), `KC-${run}`, '2025-03-02T02:00:00Z', { category: 'billing', channel: 'phone', severity: 'critical' }),
    );
    expect(await dispatcher.run(new Date('2025-04-01T00:00:00Z'))).toEqual([]);
    expect(await alertsOf('cid')).toEqual([]);
    expect(await episodes('cid')).toEqual([]);
  });

  it('raises no alert twice when the saga is run again from the start of the log', async () => {
    await caughtUp(await lastCommittedPosition(database.pool));
    const before = await store.readAll(0n, { types: [RETENTION_ALERT_RAISED] });
    expect(before).toHaveLength(3);
    const rows = async () => (await database.pool.query('SELECT to_jsonb(e)::text AS row FROM rm_retention_episodes e ORDER BY customer_id, episode')).rows;
    const settled = await rows();

    // The fold from scratch, stopped before bea's alert and without the alerts, as a rebuild half-way would be: ana's
    // two episodes are back in the outbox, and the SLA check sees bea's complaint past due outside an episode. Every
    // alert it would raise is already in the log.
    await runner.stop();
    const bea = before.find((e) => (e.data as { customerId: string }).customerId === id('bea'))!;
    const folded = (await store.readAll(0n, { types: retentionEpisodesProjection.handles })).filter((e) => e.type !== RETENTION_ALERT_RAISED);
    await database.pool.query(`TRUNCATE ${retentionEpisodesProjection.tables.join(', ')}`);
    await database.dataSource.transaction((manager) => retentionEpisodesProjection.apply(folded.filter((e) => e.position < bea.position), manager));
    expect(short(await dispatcher.sendOutbox(new Date('2025-03-20T00:00:00Z')))).toEqual(['ana #1 duplicate: detractor', 'ana #2 duplicate: detractor']);
    expect(short(await dispatcher.checkSla(new Date('2025-03-13T01:00:00Z')))).toEqual([`bea #1 duplicate: complaint K-${run} unresolved past its high SLA`]);

    // The whole log without the alerts: bea's bad call of 01:30 now opens her episode (the alert of 01:00 is not
    // there to), with the same number, so the same alert id.
    await database.pool.query(`TRUNCATE ${retentionEpisodesProjection.tables.join(', ')}`);
    await database.dataSource.transaction((manager) => retentionEpisodesProjection.apply(folded, manager));
    expect(short(await dispatcher.sendOutbox(new Date('2025-03-20T00:00:00Z')))).toEqual([
      'ana #1 duplicate: detractor',
      'ana #2 duplicate: detractor',
      `bea #1 duplicate: negative phone moment + complaint K-${run} unresolved past its high SLA`,
    ]);
    expect(await store.readAll(0n, { types: [RETENTION_ALERT_RAISED] })).toEqual(before);

    // And a rebuild by the runner gives the very rows the saga had.
    await database.pool.query(`TRUNCATE ${retentionEpisodesProjection.tables.join(', ')}`);
    await database.pool.query('UPDATE cx_projection_checkpoints SET position = 0 WHERE name = $1', [RETENTION_EPISODES]);
    await startRunner();
    await caughtUp(await lastCommittedPosition(database.pool));
    expect(await rows()).toEqual(settled);
    expect(await dispatcher.run(new Date('2025-03-20T00:00:00Z'))).toEqual([]);
  });

  it('writes the same rows with the states it keeps between live batches as when it reads them back every batch', async () => {
    await caughtUp(await lastCommittedPosition(database.pool));
    await runner.stop();
    const folded = await store.readAll(0n, { types: retentionEpisodesProjection.handles });
    const tables = retentionEpisodesProjection.tables;
    const snapshot = async () =>
      Promise.all(tables.map(async (t) => (await database.pool.query(`SELECT to_jsonb(r) - 'updated_at' AS row FROM ${t} r ORDER BY 1`)).rows));
    /** As the runner applies batches: each with the transaction that committed the one before, which moves a checkpoint. */
    const applyLive = async (projection: ReturnType<typeof createRetentionEpisodesProjection>, batches: RecordedEvent[][]) => {
      let previousCommit: string | undefined;
      for (const batch of batches) {
        previousCommit = await database.dataSource.transaction(async (m) => {
          await projection.apply(batch, m, { previousCommit });
          const [row] = (await m.query(
            `INSERT INTO cx_projection_checkpoints (name, version, position) VALUES ('retention-spec-chain', 1, 0)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position RETURNING xmin::text AS xid`,
          )) as Array<{ xid: string }>;
          return row.xid;
        });
      }
    };
    const batches: RecordedEvent[][] = [];
    for (let i = 0; i < folded.length; i += 2) batches.push(folded.slice(i, i + 2));

    await database.pool.query(`TRUNCATE ${tables.join(', ')}`);
    const kept = createRetentionEpisodesProjection();
    await applyLive(kept, batches);
    const withKept = await snapshot();
    expect(kept.kept.unchecked).toBeGreaterThan(5);

    await database.pool.query(`TRUNCATE ${tables.join(', ')}`);
    const plain = createRetentionEpisodesProjection({ keptStates: 0 });
    await applyLive(plain, batches);
    expect(plain.kept.unchecked).toBe(0);
    expect(withKept).toEqual(await snapshot());
    expect(withKept[2].length).toBeGreaterThan(2);
  });
});
