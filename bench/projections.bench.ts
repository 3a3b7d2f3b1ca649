/**
 * `npm run bench:projections`: folding the log into the read models, on a real PostgreSQL server.
 *
 *  1. Generates realistic journeys (about 1,000,000 events over 50,000 customers by default) and
 *     stores them through the real write path (validation, sealing, deciding) in a fresh database.
 *  2. Baseline: reading the same events from the log, in the runner's batches, without folding.
 *  3. Each projection rebuilt alone from position 0, then all of them together: events/s.
 *  4. Lag while ingesting 5,000 events/s with every projection running: per batch, the time from
 *     the append's return until every projection's checkpoint has passed it; p50 and p99.
 *
 *   DATABASE_URL=postgres://… npm run bench:projections                 1,000,000 events
 *   DATABASE_URL=postgres://… npm run bench:projections -- --quick      100,000
 *
 * Flags: --customers N, --days D, --quick, --lag-seconds 30, --rate 5000, --no-docs.
 */
import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, openDatabase, PiiVault, redactUrl } from '@cx/platform';
import { allProjections, ProjectionRunner, readModelSchema } from '@cx/projections';
import { generateJourneys } from '@cx/testing';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { writeDocsSection } from './bench-report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

async function main() {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string' },
      days: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'lag-seconds': { type: 'string', default: '30' },
      rate: { type: 'string', default: '5000' },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('bench:projections measures a real PostgreSQL server: set DATABASE_URL');
  const customers = Number(values.customers ?? (values.quick ? 5_000 : 50_000));
  const days = Number(values.days ?? 35);
  const lagSeconds = Number(values['lag-seconds']);
  const rate = Number(values.rate);
  const started = Date.now();
  const name = `cx_bench_proj_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const report: string[] = [];
  try {
    const database = await openDatabase({ databaseUrl: url.toString(), dataDir: 'unused', dbPoolSize: 8 }, readModelSchema);
    const store = new PostgresEventStore({ pool: database.pool });
    const vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
    const ingest = new IngestService(store, vault, createMomentCatalogue());

    // 1. The log.
    const journeys = generateJourneys({ customers, days, seed: 2026 });
    console.log(`bench:projections: ${fmt(journeys.length)} events over ${fmt(customers)} customers and ${days} days, ${redactUrl(baseUrl)}`);
    let t0 = performance.now();
    for (let i = 0; i < journeys.length; i += 1000) {
      const outcome = await ingest.ingest(journeys.slice(i, i + 1000), { correlationId: 'bench' });
      if (outcome.rejected > 0) throw new Error(`the generator produced rejected events: ${JSON.stringify(outcome.results.find((r) => r.status === 'rejected'))}`);
      if (i % 100_000 === 0) process.stdout.write(`\rstoring: ${fmt(i)}`);
    }
    const stored = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM cx_events')).rows[0].n);
    const head = await store.headPosition();
    console.log(`\rstored ${fmt(stored)} events in ${((performance.now() - t0) / 1000).toFixed(0)} s (through the ingest write path)`);
    await database.pool.query('VACUUM ANALYZE cx_events');

    // 2. Baseline: read the log in the runner's batches, fold nothing.
    t0 = performance.now();
    let read = 0;
    for (let after = 0n; ; ) {
      const batch = await store.readAll(after, { limit: 1000 });
      if (batch.length === 0) break;
      read += batch.length;
      after = batch[batch.length - 1].position;
    }
    const baseline = read / ((performance.now() - t0) / 1000);
    console.log(`baseline (read the log, no fold): ${fmt(baseline)} events/s`);

    // 3. Rebuilds: each projection alone, then all together.
    const rebuild = async (projections: typeof allProjections) => {
      await database.pool.query(`TRUNCATE ${projections.flatMap((p) => p.tables).join(', ')}`);
      await database.pool.query('UPDATE cx_projection_checkpoints SET position = 0, status = $2 WHERE name = ANY($1)', [projections.map((p) => p.name), 'stopped']);
      const runner = new ProjectionRunner({ store, dataSource: database.dataSource, pool: database.pool, projections, lease: false, batchSize: 1000 });
      const start = performance.now();
      await runner.start();
      while ((await runner.lowestPosition(projections.map((p) => p.name))) < head) await sleep(20);
      const seconds = (performance.now() - start) / 1000;
      await runner.stop();
      return stored / seconds;
    };
    const alone: Array<[string, number]> = [];
    for (const projection of allProjections) {
      const perSecond = await rebuild([projection]);
      alone.push([projection.name, perSecond]);
      console.log(`rebuild ${projection.name}: ${fmt(perSecond)} events/s (${(perSecond / baseline).toFixed(2)} of the read rate)`);
    }
    const together = await rebuild(allProjections);
    console.log(`rebuild all together: ${fmt(together)} events/s`);

    // 4. Lag while ingesting at `rate` events/s with every projection following the log.
    const live = new ProjectionRunner({ store, dataSource: database.dataSource, pool: database.pool, projections: allProjections, lease: false, batchSize: 1000 });
    await live.start();
    while ((await live.lowestPosition()) < head) await sleep(20);
    const more = generateJourneys({ customers: 20_000, days: 30, seed: 77, start: new Date() }).slice(0, rate * lagSeconds);
    const perTick = Math.max(1, Math.round(rate / 20)); // one batch every 50 ms
    const pending: Array<{ position: bigint; at: number }> = [];
    const lags: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching || pending.length > 0) {
        const reached = await live.lowestPosition();
        const now = performance.now();
        while (pending.length > 0 && pending[0].position <= reached) lags.push(now - pending.shift()!.at);
        await sleep(10);
      }
    })();
    const ingestStart = performance.now();
    for (let i = 0, tick = 0; i < more.length; i += perTick, tick++) {
      const outcome = await ingest.ingest(more.slice(i, i + perTick), { correlationId: 'bench-lag' });
      pending.push({ position: BigInt(outcome.position), at: performance.now() });
      const due = ingestStart + (tick + 1) * 50;
      if (due > performance.now()) await sleep(due - performance.now());
    }
    const achieved = more.length / ((performance.now() - ingestStart) / 1000);
    watching = false;
    await watcher;
    await live.stop();
    const lagP50 = percentile(lags, 50);
    const lagP99 = percentile(lags, 99);
    console.log(`lag while ingesting ${fmt(achieved)} events/s: p50 ${lagP50.toFixed(0)} ms, p99 ${lagP99.toFixed(0)} ms over ${lags.length} batches`);

    await store.close();
    await database.close();

    const satisfaction = alone.find(([n]) => n === 'satisfaction')?.[1] ?? 0;
    const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    report.push(
      `## Projections (\`npm run bench:projections\`)`,
      '',
      `- **Command:** \`DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:projections\``,
      `- **Date:** ${new Date().toISOString().slice(0, 19)}Z; the run took ${Math.round((Date.now() - started) / 1000)} s.`,
      `- **Machine:** ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; PostgreSQL on the same host.`,
      `- **Log:** ${fmt(stored)} events of generated journeys over ${fmt(customers)} customers and ${days} days (moments, answers rating them, registrations, complaint lifecycles), stored through the ingest write path.`,
      `- **Baseline:** reading the same events from the log in batches of 1,000, folding nothing: **${fmt(baseline)} events/s**.`,
      '',
      '| rebuild from position 0 | events/s | ratio to the read baseline |',
      '|---|---:|---:|',
      ...alone.map(([n, v]) => `| ${n} alone | ${fmt(v)} | ${(v / baseline).toFixed(2)} |`),
      `| all ${allProjections.length} together | ${fmt(together)} | ${(together / baseline).toFixed(2)} |`,
      '',
      `- **Lag** while ingesting ${fmt(achieved)} events/s (target rate ${fmt(rate)}) for ${lagSeconds} s with every projection following the log: p50 **${lagP50.toFixed(0)} ms**, p99 **${lagP99.toFixed(0)} ms** (from the append's return until every projection's checkpoint passed it; ${lags.length} batches).`,
      `- Target: satisfaction rebuild ≥ 50,000 events/s: **${pass(satisfaction >= 50_000)}** (${fmt(satisfaction)}); lag p99 < 1 s: **${pass(lagP99 < 1000)}**.`,
    );
    console.log(`\n${report.join('\n')}`);
    if (!values['no-docs']) {
      await writeDocsSection(join(root, 'docs/benchmarks.md'), 'projections', report.join('\n'));
      console.log('docs/benchmarks.md updated');
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
