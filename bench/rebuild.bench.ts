/**
 * `npm run bench:replay` (second half): blue/green rebuilds of the read models against reading the
 * same log raw, on a real PostgreSQL server.
 *
 *  1. A fresh database: generated journeys (about 215,000 events over 10,000 customers and 35 days
 *     by default: moments, answers, registrations, complaint lifecycles) stored through the ingest
 *     write path (validation, sealing, deciding).
 *  2. A projection runner in the benchmark's process following the log from its head, its tables
 *     filled by a first rebuild of every projection (the warm-up).
 *  3. Interleaved rounds: the baseline (reading every event of the log with `readAll`, folding
 *     nothing, in batches of 1,000 and of 5,000: the faster), then a full blue/green rebuild of every
 *     projection in one pass (requested as `POST /v1/projections/rebuild` does, timed from the
 *     request until the switch committed). Then each projection rebuilt alone, each after a
 *     baseline read of its own.
 *
 *   DATABASE_URL=postgres://… npm run bench:replay        (runs replay.bench.js first)
 *   DATABASE_URL=postgres://… node dist/bench/rebuild.bench.js --customers 10000 --rounds 3
 *
 * Flags: --customers 10000, --days 35, --rounds 2, --no-alone, --no-docs, --only name,name (the
 * projections rebuilt alone, in that order, repeats allowed); CX_BENCH_KEEP=1 keeps the database, --database <name> runs on a kept
 * one again (no generating and storing; for profiling).
 */
import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, openDatabase, PiiVault, redactUrl } from '@cx/platform';
import { allProjections, defaultRebuildOptions, ProjectionRunner, readModelSchema } from '@cx/projections';
import { CHANGE_RECORDED, changeStreamId } from '../libs/projections/src/read-models/satisfaction/change.events.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
// Not through @cx/testing's index: it pulls in the jest helpers.
import { generateJourneys } from '../libs/testing/src/journeys.js';
import { logReader } from '../libs/projections/src/rebuild-log.js';
import { coresBetween, machineTicks, writeDocsSection } from './bench-report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET = 0.5;
const READ_BATCHES = [1_000, 5_000];
const CHANGES = 20;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

async function main() {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '10000' },
      days: { type: 'string', default: '35' },
      rounds: { type: 'string', default: '2' },
      'no-alone': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      only: { type: 'string' },
      database: { type: 'string' },
    },
  });
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('bench:replay measures a real PostgreSQL server: set DATABASE_URL');
  const customers = Number(values.customers);
  const days = Number(values.days);
  const rounds = Number(values.rounds);
  const started = Date.now();
  const reuse = values.database;
  const name = reuse ?? `cx_bench_rebuild_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  if (!reuse) await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  try {
    const database = await openDatabase({ databaseUrl: url.toString(), dataDir: 'unused', dbPoolSize: 10 }, readModelSchema);
    const store = new PostgresEventStore({ pool: database.pool });
    const vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(randomBytes(32), 'ephemeral') });
    const ingest = new IngestService(store, vault, createMomentCatalogue());
    const version = (await database.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;

    // 1. The log (the generated events are let go once stored: they are not the rebuild's memory).
    const t0 = performance.now();
    if (!reuse) {
      const journeys = generateJourneys({ customers, days, seed: 2026 });
      console.log(`bench:rebuild: ${fmt(journeys.length)} events over ${fmt(customers)} customers and ${days} days, ${redactUrl(baseUrl)}`);
      for (let i = 0; i < journeys.length; i += 1000) {
        const outcome = await ingest.ingest(journeys.slice(i, i + 1000), { correlationId: 'bench' });
        if (outcome.rejected > 0) throw new Error(`the generator produced rejected events: ${JSON.stringify(outcome.results.find((r) => r.status === 'rejected'))}`);
      }
      // Dated process changes, for the changes model, as POST /v1/changes records them.
      for (let n = 0; n < CHANGES; n++) {
        const changeId = randomUUID();
        const effectiveAt = new Date(Date.UTC(2026, 9, 1) - n * 86_400_000).toISOString();
        await store.append(changeStreamId(changeId), [{ id: randomUUID(), type: CHANGE_RECORDED, data: { changeId, name: `change ${n}`, effectiveAt } }], 'no_stream');
      }
    }
    const stored = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM cx_events')).rows[0].n);
    const head = await store.headPosition();
    console.log(`stored ${fmt(stored)} events in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    await database.pool.query('VACUUM ANALYZE cx_events');

    // 2. A runner at the head; a first rebuild fills the tables.
    await database.pool.query(
      `INSERT INTO cx_projection_checkpoints (name, version, position) SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[]) ON CONFLICT DO NOTHING`,
      [allProjections.map((p) => p.name), allProjections.map((p) => p.version), allProjections.map(() => head.toString())],
    );
    const phases = new Map<string, string>();
    const runner = new ProjectionRunner({
      store,
      dataSource: database.dataSource,
      pool: database.pool,
      projections: allProjections,
      lease: false,
      logger: {
        log: (message) => {
          const match = /^rebuild of (.+): switched .*; (preparing .*)\)$/.exec(message);
          if (match) phases.set(match[1].split(', ').sort().join(', '), match[2]);
        },
        warn: (message) => console.warn(message),
        error: (message) => console.error(message),
      },
    });
    await runner.start();

    /** Reading every event raw, in batches of each size in turn: the faster one is the baseline. */
    const baseline = async (): Promise<{ perSecond: number; cpu: number; cores: number }> => {
      let best = { perSecond: 0, cpu: 0, cores: Number.NaN };
      for (const limit of READ_BATCHES) {
        const begin = performance.now();
        const cpu = process.cpuUsage();
        const machine = await machineTicks();
        let read = 0;
        for (let after = 0n; ; ) {
          const batch = await store.readAll(after, { limit });
          if (batch.length === 0) break;
          read += batch.length;
          after = batch[batch.length - 1].position;
        }
        if (read !== stored) throw new Error(`read ${read} events of ${stored}`);
        const perSecond = stored / ((performance.now() - begin) / 1000);
        if (perSecond > best.perSecond) best = { perSecond, cpu: cpuSeconds(cpu), cores: coresBetween(machine, await machineTicks()) };
      }
      return best;
    };
    /** Reading every event as the rebuild reads it (metadata and time left as text), folding nothing: shown, not the target's baseline. */
    const types = (await database.pool.query<{ type: string }>('SELECT DISTINCT type FROM cx_events')).rows.map((r) => r.type);
    const rebuildRead = async (): Promise<{ perSecond: number; cpu: number }> => {
      const readLog = logReader(store);
      const begin = performance.now();
      const cpu = process.cpuUsage();
      let read = 0;
      for (let after = 0n; ; ) {
        const batch = await readLog(after, defaultRebuildOptions.batchSize, types);
        if (batch.length === 0) break;
        read += batch.length;
        after = batch[batch.length - 1].position;
      }
      if (read !== stored) throw new Error(`read ${read} events of ${stored}`);
      return { perSecond: stored / ((performance.now() - begin) / 1000), cpu: cpuSeconds(cpu) };
    };
    const rebuild = async (names: readonly string[]): Promise<{ perSecond: number; cpu: number; cores: number; phases: string }> => {
      const begin = performance.now();
      const cpu = process.cpuUsage();
      const machine = await machineTicks();
      const rows = await runner.requestRebuild(names);
      const ids = rows.map((r) => r.id);
      for (;;) {
        const { rows: states } = await database.pool.query<{ status: string; error: string | null }>(
          'SELECT status, error FROM cx_projection_rebuilds WHERE id = ANY($1::bigint[])',
          [ids],
        );
        if (states.some((s) => s.status === 'failed')) throw new Error(`rebuild failed: ${states.find((s) => s.error)?.error}`);
        if (states.every((s) => s.status === 'done')) break;
        await sleep(10);
      }
      const seconds = (performance.now() - begin) / 1000;
      const used = cpuSeconds(cpu);
      const cores = coresBetween(machine, await machineTicks());
      // The old tables are dropped right after the switch; the rebuild logs its phases once they are gone.
      const key = [...names].sort().join(', ');
      for (let waited = 0; !phases.has(key) && waited < 10_000; waited += 20) await sleep(20);
      const logged = phases.get(key) ?? '';
      phases.delete(key);
      return { perSecond: stored / seconds, cpu: used, cores, phases: logged };
    };
    const all = allProjections.map((p) => p.name);
    // A kept database's tables were filled by its first run.
    const warmup = reuse ? { perSecond: 0 } : await rebuild(all);
    if (!reuse) console.log(`warm-up: rebuild of every projection into empty live tables: ${fmt(warmup.perSecond)} events/s`);

    // 3. Interleaved rounds.
    const reads: Array<{ perSecond: number; cpu: number; cores: number }> = [];
    const rebuildReads: Array<{ perSecond: number; cpu: number }> = [];
    const fulls: Array<{ perSecond: number; cpu: number; cores: number; phases: string }> = [];
    for (let round = 1; round <= rounds; round++) {
      reads.push(await baseline());
      rebuildReads.push(await rebuildRead());
      fulls.push(await rebuild(all));
      console.log(`round ${round}: read ${fmt(reads.at(-1)!.perSecond)} events/s, rebuild of every projection ${fmt(fulls.at(-1)!.perSecond)} events/s (${fulls.at(-1)!.phases})`);
    }
    const alone: Array<{ name: string; read: number; perSecond: number; cpu: number; cores: number; phases: string }> = [];
    if (!values['no-alone']) {
      const only = values.only?.split(',').map((name) => allProjections.find((p) => p.name === name) ?? []).flat();
      for (const projection of only ?? allProjections) {
        const read = (await baseline()).perSecond;
        const result = await rebuild([projection.name]);
        alone.push({ name: projection.name, read, ...result });
        console.log(`${projection.name} alone: ${fmt(result.perSecond)} events/s, ${(result.perSecond / read).toFixed(2)} of the read (${result.phases})`);
      }
    }
    await runner.stop();
    await store.close();
    await database.close();

    const read = median(reads.map((r) => r.perSecond));
    const full = median(fulls.map((f) => f.perSecond));
    const readCpu = median(reads.map((r) => r.cpu));
    const lazyRead = median(rebuildReads.map((r) => r.perSecond));
    const lazyCpu = median(rebuildReads.map((r) => r.cpu));
    const fullCpu = median(fulls.map((f) => f.cpu));
    const readCores = median(reads.map((r) => r.cores));
    const fullCores = median(fulls.map((f) => f.cores));
    const cores = (n: number) => (Number.isNaN(n) ? 'n/a' : n.toFixed(2));
    const ratio = full / read;
    const pass = ratio >= TARGET ? 'PASS' : 'FAIL';
    const report = [
      '## Rebuilding projections blue/green (`npm run bench:replay`, second half)',
      '',
      '- **Command:** `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:replay` (this half: `dist/bench/rebuild.bench.js`)',
      `- **Date:** ${new Date().toISOString().slice(0, 19)}Z; the run took ${Math.round((Date.now() - started) / 1000)} s; load average at the end ${loadavg()[0].toFixed(1)} (the machine is shared).`,
      `- **Machine:** ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; PostgreSQL ${version} on the same host.`,
      `- **Log:** ${fmt(stored)} events of generated journeys over ${fmt(customers)} customers and ${days} days (moments, answers, registrations, complaint lifecycles), stored through the ingest write path, and ${CHANGES} dated changes.`,
      `- **Baseline:** reading every event of the log with \`readAll\`, folding nothing, in batches of ${READ_BATCHES.map(fmt).join(' and then ')}: the faster of the two (the rebuild reads in batches of ${fmt(defaultRebuildOptions.batchSize)}, with \`readAll\`'s query but each event's metadata and recording time left as text until a fold reads them: that read is shown too, measured right after the baseline, and is not the baseline).`,
      `- **Rebuild:** \`ProjectionRunner.requestRebuild\` (what \`POST /v1/projections/rebuild\` does) in a process whose projections follow the log, timed from the request until the switch committed: fresh tables in a schema of their own, the log read once for all the projections asked for (only the event types they fold), bulk folds into tables without keys or indexes, then indexed and analysed, caught up, switched. Events/s = events in the log ÷ that time. ${rounds} interleaved rounds (read, rebuild, read, rebuild…); medians.`,
      '',
      '| | events/s | ratio to the read | CPU of this process (s) | machine busy (cores of ' + cpus().length + ') | phases (last round) |',
      '|---|---:|---:|---:|---:|---|',
      `| baseline: read the log raw | ${fmt(read)} | 1.00 | ${readCpu.toFixed(1)} | ${cores(readCores)} | |`,
      `| (shown, not the baseline) read the log as the rebuild reads it | ${fmt(lazyRead)} | ${(lazyRead / read).toFixed(2)} | ${lazyCpu.toFixed(1)} | | |`,
      `| **rebuild of all ${allProjections.length} projections, one pass** | **${fmt(full)}** | **${ratio.toFixed(2)}** | ${fullCpu.toFixed(1)} | ${cores(fullCores)} | ${fulls.at(-1)?.phases ?? ''} |`,
      ...alone.map((a) => `| ${a.name} alone | ${fmt(a.perSecond)} | ${(a.perSecond / a.read).toFixed(2)} | ${a.cpu.toFixed(1)} | ${cores(a.cores)} | ${a.phases} |`),
      '',
      `- Where the time goes: the rebuild of every projection used ${fullCpu.toFixed(1)} s of this process's CPU against ${readCpu.toFixed(1)} s for the read (${(fullCpu / readCpu).toFixed(1)} times): the same events parsed, then folded and their rows serialised; the database server inserted and indexed the rows besides. ${cpus().length} cores are shared by this process, the database server and whatever else runs on the machine (load average ${loadavg()[0].toFixed(1)} at the end): the rebuild is bound by CPU, here and in the database, not by waiting.`,
      `- Each "alone" row is measured right after a read of its own (its ratio is to that read). A model that folds few event types (changes, complaints) reads only those: its rebuild passes over the rest of the log without fetching it.`,
      `- Target (issue #6): a rebuild at least ${TARGET} of the raw read rate. Every projection together: **${ratio.toFixed(2)}: ${pass}**.${
        alone.length > 0 ? ` Alone: ${alone.filter((a) => a.perSecond / a.read >= TARGET).length} of ${alone.length} at ${TARGET} or more.` : ''
      }`,
    ];
    console.log(`\n${report.join('\n')}`);
    if (!values['no-docs']) {
      await writeDocsSection(join(root, 'docs/benchmarks.md'), 'rebuild', report.join('\n'));
      console.log('docs/benchmarks.md updated');
    }
  } finally {
    if (!process.env.CX_BENCH_KEEP && !reuse) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
