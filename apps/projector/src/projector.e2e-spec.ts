import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { type Database, loadMasterKey, openDatabase, PiiVault } from '@cx/platform';
import { allProjections, ProjectionRunner, readModelSchema } from '@cx/projections';
import { generateJourneys, lastCommittedPosition, openTestDatabase, startApp, testBackend } from '@cx/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every read model table's rows, in a canonical order: two folds of the same log must give the same snapshot. */
async function snapshot(database: Database): Promise<Record<string, string[]>> {
  const tables: Record<string, string[]> = {};
  for (const table of allProjections.flatMap((p) => p.tables)) {
    const { rows } = await database.pool.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY 1`);
    tables[table] = rows.map((r) => r.row);
  }
  return tables;
}

/**
 * SIGKILLs the projector at random moments while it folds, again and again, then lets it finish,
 * and compares every read model with a fold of the same log by a runner that was never killed.
 */
describe(`projector killed mid-batch on ${testBackend}`, () => {
  it('neither loses nor double-counts an event across repeated SIGKILLs', async () => {
    expect(allProjections.length).toBeGreaterThan(0);
    const dataDir = mkdtempSync(join(tmpdir(), 'cx-kill-'));
    const masterKey = randomBytes(32).toString('base64');
    const test = testBackend === 'postgres' ? await openTestDatabase() : undefined;
    const config = test
      ? { databaseUrl: test.url!, dataDir: 'unused', dbPoolSize: 4 }
      : { dataDir, dbPoolSize: 1 };
    // The retention jobs append alerts and tier changes of their own: off here, so the log ends at `head`.
    const quiet = { CX_RETENTION_ALERT_INTERVAL_SECONDS: '0', CX_TIER_INTERVAL_MINUTES: '0' };
    // The projector reads no personal data: it runs without the master key.
    const env = test ? { DATABASE_URL: test.url!, CX_MASTER_KEY: '', ...quiet } : { DATABASE_URL: '', CX_DATA_DIR: dataDir, CX_MASTER_KEY: '', ...quiet };
    try {
      // The log: a few thousand events of realistic journeys, through the real write path.
      let database = await openDatabase(config, readModelSchema);
      const store = new PostgresEventStore({ pool: database.pool });
      const vault = new PiiVault({ pool: database.pool, masterKey: loadMasterKey({ env: { CX_MASTER_KEY: masterKey }, dataDir, embedded: !test }) });
      const ingest = new IngestService(store, vault, createMomentCatalogue());
      const journeys = generateJourneys({ customers: 120, days: 60, seed: 7 });
      for (let i = 0; i < journeys.length; i += 500) {
        const outcome = await ingest.ingest(journeys.slice(i, i + 500), { correlationId: 'kill-test' });
        expect(outcome.rejected).toBe(0);
      }
      const head = await lastCommittedPosition(database.pool);
      await store.close();
      await database.close();

      // Kill the projector again and again while it folds: wait until its /health shows it moving
      // past where it was, then SIGKILL it a random few milliseconds later (batches of 37 events).
      const projectorEnv = { ...env, CX_PROJECTION_BATCH_SIZE: '37' };
      const positionsOf = async (url: string) => {
        const health = (await (await fetch(`${url}/health`)).json()) as { projections?: { list: Array<{ position: string }> } };
        return health.projections?.list.map((p) => BigInt(p.position)) ?? [];
      };
      let kills = 0;
      let lastSum = 0n;
      for (let round = 0; round < 6; round++) {
        const projector = await startApp('dist/apps/projector/src/main.js', projectorEnv, 60_000);
        const deadline = Date.now() + 30_000;
        for (;;) {
          const sum = (await positionsOf(projector.url)).reduce((a, b) => a + b, 0n);
          if (sum > lastSum || Date.now() > deadline) {
            lastSum = sum;
            break;
          }
          await sleep(20);
        }
        await sleep(Math.random() * 150);
        if ((await projector.stop('SIGKILL')) === null) kills++;
      }
      expect(kills).toBe(6);
      // The kills interrupted real work: the projections had started and not yet finished.
      database = await openDatabase(config, readModelSchema);
      const { rows: midway } = await database.pool.query<{ position: string }>('SELECT position FROM cx_projection_checkpoints');
      await database.close();
      expect(midway.some((c) => BigInt(c.position) > 0n)).toBe(true);
      expect(midway.some((c) => BigInt(c.position) < head)).toBe(true);

      // Then let it run to the end of the log; its /health reports each projection's position.
      const projector = await startApp('dist/apps/projector/src/main.js', projectorEnv, 60_000);
      const deadline = Date.now() + 120_000;
      for (;;) {
        const health = (await (await fetch(`${projector.url}/health`)).json()) as { projections?: { list: Array<{ position: string }> } };
        const positions = health.projections?.list.map((p) => BigInt(p.position)) ?? [];
        if (positions.length === allProjections.length && positions.every((p) => p >= head)) break;
        if (Date.now() > deadline) throw new Error(`the projector did not reach ${head}: ${JSON.stringify(health.projections)}`);
        await sleep(200);
      }
      expect(await projector.stop()).toBe(0);
      database = await openDatabase(config, readModelSchema);
      const { rows: checkpoints } = await database.pool.query<{ name: string; position: string; status: string }>(
        'SELECT name, position, status FROM cx_projection_checkpoints ORDER BY name',
      );
      expect(checkpoints.map((c) => [c.name, BigInt(c.position) >= head])).toEqual(allProjections.map((p) => [p.name, true]).sort());
      const afterKills = await snapshot(database);

      // The reference: the same log folded from scratch by a runner that was never killed.
      await database.pool.query(`TRUNCATE ${allProjections.flatMap((p) => p.tables).join(', ')}`);
      await database.pool.query('UPDATE cx_projection_checkpoints SET position = 0');
      const runner = new ProjectionRunner({
        store: new PostgresEventStore({ pool: database.pool }),
        dataSource: database.dataSource,
        pool: database.pool,
        projections: allProjections,
        lease: false,
        batchSize: 1000,
      });
      await runner.start();
      const rebuildDeadline = Date.now() + 120_000;
      while ((await runner.lowestPosition()) < head) {
        if (Date.now() > rebuildDeadline) throw new Error(`the reference fold did not reach ${head}: ${JSON.stringify(await runner.states())}`);
        await sleep(50);
      }
      await runner.stop();
      const clean = await snapshot(database);
      await database.close();

      for (const table of Object.keys(clean)) {
        expect({ table, rows: afterKills[table].length }).toEqual({ table, rows: clean[table].length });
        expect(afterKills[table]).toEqual(clean[table]);
      }
      expect(Object.values(clean).some((rows) => rows.length > 0)).toBe(true);
    } finally {
      await test?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
