/**
 * `npm run bench:projections`: folding the log into the read models, on a real PostgreSQL server.
 *
 *  1. Generates realistic journeys (about 1,000,000 events over 50,000 customers by default) and
 *     stores them through the real write path (validation, sealing, deciding) in a fresh database,
 *     in several lanes at once (a customer's events stay in order in its lane).
 *  2. A projector in this process as apps/projector runs one: a ProjectionRunner with every
 *     projection, leases, LISTEN/NOTIFY, batches of 1,000 (CX_PROJECTION_BATCH_SIZE's default).
 *  3. Rebuild from position 0 as users run it: `ProjectionRunner.requestRebuild` (what
 *     `POST /v1/projections/{name}/rebuild` does), timed from the request until the switch
 *     committed; every projection together, then each alone. Each is measured right after a
 *     baseline of its own: reading every event of the same log with `readAll`, folding nothing.
 *  4. Live catch-up through the runner's apply path: the projector stopped, a week more of
 *     journeys stored, the projector started again and timed until every checkpoint is at the head.
 *  5. Lag while ingesting at each rate of --rate (2,500 then 5,000 events/s), every projection
 *     following the log: the load generator runs in a worker thread of its own
 *     (bench/projections-load.worker.ts: ingest on its own event loop and connections, as the
 *     ingest app in a split deployment); per batch, the time from the append's return until every
 *     projection's checkpoint has passed it; p50 and p99; and the CPU this process and the whole
 *     machine (PostgreSQL included) used meanwhile, to tell a slow projector from a full machine.
 *
 *   DATABASE_URL=postgres://… npm run bench:projections                 1,000,000 events
 *   DATABASE_URL=postgres://… npm run bench:projections -- --quick      100,000
 *
 * Flags: --customers N, --days D, --quick, --lanes 4, --catch-up-days 7, --lag-seconds 30,
 * --rate 2500,5000 (events/s, each in turn), --load-lanes 4, --no-alone, --alone a,b (only those), --no-together, --no-rebuild,
 * --cpu-profile FILE, --timing (per part: apply time, customer 360's kept states, log reads, GC, server CPU), --no-docs; CX_BENCH_KEEP=1 keeps the database; CX_PROJECTION_BATCH_SIZE
 * sets the projector's batch size (as for apps/projector).
 */
import { createMomentCatalogue } from '@cx/domain';
import { PostgresEventStore } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, openDatabase, PiiVault, redactUrl } from '@cx/platform';
import { allProjections, ProjectionRunner, readModelSchema } from '@cx/projections';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import { readFile, writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
// Not through @cx/testing's index: it pulls in the jest helpers.
import { type CloudEventJson, generateJourneys } from '../libs/testing/src/journeys.js';
import { coresBetween, machineTicks, writeDocsSection } from './bench-report.js';
import type { LoadInput, LoadResult } from './projections-load.worker.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const READ_BATCHES = [1_000, 5_000];
const BATCH = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

/** One lag part: the load generator at a rate, the projector following. */
type Lag = {
  rate: number;
  achieved: number;
  accepted: number;
  sent: number;
  batches: number;
  p50: number;
  p99: number;
  ingestP99: number;
  seconds: number;
  drain: number;
  loopBusy: number;
  processCores: number;
  machineCores: number;
  machineMicros: number;
};

/** Stores events through the ingest write path, `lanes` batches at a time; a customer's events stay in order in its lane. */
async function store(ingest: IngestService, events: readonly CloudEventJson[], lanes: number, strict: boolean): Promise<number> {
  const laneOf = (subject: string) => {
    let h = 0;
    for (let i = 0; i < subject.length; i++) h = (h * 31 + subject.charCodeAt(i)) | 0;
    return Math.abs(h) % lanes;
  };
  const split: CloudEventJson[][] = Array.from({ length: lanes }, () => []);
  for (const event of events) split[laneOf(event.subject)].push(event);
  let accepted = 0;
  let done = 0;
  await Promise.all(
    split.map(async (lane) => {
      for (let i = 0; i < lane.length; i += BATCH) {
        const outcome = await ingest.ingest(lane.slice(i, i + BATCH), { correlationId: 'bench' });
        if (strict && outcome.rejected > 0) throw new Error(`the generator produced rejected events: ${JSON.stringify(outcome.results.find((r) => r.status === 'rejected'))}`);
        accepted += outcome.accepted;
        done += Math.min(BATCH, lane.length - i);
        if (done % 100_000 < BATCH) process.stdout.write(`\rstoring: ${fmt(done)}`);
      }
    }),
  );
  return accepted;
}

async function main() {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string' },
      days: { type: 'string' },
      quick: { type: 'boolean', default: false },
      lanes: { type: 'string', default: '4' },
      'catch-up-days': { type: 'string', default: '7' },
      'lag-seconds': { type: 'string', default: '30' },
      rate: { type: 'string', default: '2500,5000' },
      'load-lanes': { type: 'string', default: '4' },
      'no-rebuild': { type: 'boolean', default: false },
      'cpu-profile': { type: 'string' },
      timing: { type: 'boolean', default: false },
      'no-alone': { type: 'boolean', default: false },
      alone: { type: 'string' },
      'no-together': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('bench:projections measures a real PostgreSQL server: set DATABASE_URL');
  const customers = Number(values.customers ?? (values.quick ? 5_000 : 50_000));
  const days = Number(values.days ?? 35);
  const lanes = Number(values.lanes);
  const catchUpDays = Number(values['catch-up-days']);
  const lagSeconds = Number(values['lag-seconds']);
  const rates = values.rate.split(',').map(Number).sort((a, b) => a - b);
  if (rates.some((r) => !Number.isInteger(r) || r <= 0)) throw new Error(`--rate: events/s, one or several comma-separated (${values.rate})`);
  const started = Date.now();
  const name = `cx_bench_proj_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const report: string[] = [];
  try {
    // The projector's database and store, as apps/projector opens them (CX_DB_POOL_SIZE's default).
    const database = await openDatabase({ databaseUrl: url.toString(), dataDir: 'unused', dbPoolSize: 10 }, readModelSchema);
    const eventStore = new PostgresEventStore({ pool: database.pool, notifications: 'listen' });
    const masterKey = randomBytes(32);
    const vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(masterKey, 'ephemeral') });
    const ingest = new IngestService(eventStore, vault, createMomentCatalogue());
    const version = (await database.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
    const { rows: settings } = await database.pool.query<{ name: string; setting: string }>(
      "SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'wal_compression', 'autovacuum') ORDER BY name",
    );
    const serverSettings = settings.map((r) => `${r.name} ${r.setting}`).join(', ');
    const names = allProjections.map((p) => p.name);
    // --timing: each projection's time in apply (its statements included) and batches, printed after the catch-up and the lag.
    const applyTime = new Map<string, { ms: number; batches: number; events: number }>();
    const timed = allProjections.map((p) => ({
      ...p,
      async apply(events: Parameters<typeof p.apply>[0], manager: Parameters<typeof p.apply>[1], context: Parameters<typeof p.apply>[2]) {
        const begin = performance.now();
        await p.apply(events, manager, context);
        const t = applyTime.get(p.name) ?? { ms: 0, batches: 0, events: 0 };
        applyTime.set(p.name, { ms: t.ms + performance.now() - begin, batches: t.batches + 1, events: t.events + events.length });
      },
    }));
    // --timing: the log's reads behind the subscriptions (the projections share a read when they ask for the same).
    const reads = { calls: 0, events: 0 };
    if (values.timing) {
      const readAll = eventStore.readAll.bind(eventStore);
      eventStore.readAll = async (...args: Parameters<typeof readAll>) => {
        const events = await readAll(...args);
        reads.calls += 1;
        reads.events += events.length;
        return events;
      };
    }
    // --timing: the server's side, from the statistics of this database and the CPU of its backends (Linux /proc).
    const serverSide = async () => {
      const [stats] = (await database.pool.query(
        'SELECT blks_read::text AS read, blks_hit::text AS hit, tup_inserted + tup_updated + tup_deleted AS written FROM pg_stat_database WHERE datname = current_database()',
      )).rows as Array<{ read: string; hit: string; written: string }>;
      const { rows: backends } = await database.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
      const ticks = new Map<number, number>();
      for (const { pid } of backends) {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (fields.length > 13) ticks.set(pid, Number(fields[11]) + Number(fields[12]));
      }
      return { read: Number(stats.read), hit: Number(stats.hit), written: Number(stats.written), ticks };
    };
    let serverBefore = values.timing ? await serverSide() : undefined;
    const printServer = async (part: string, events: number) => {
      if (!serverBefore) return;
      const now = await serverSide();
      let ticks = 0;
      for (const [pid, t] of now.ticks) ticks += t - (serverBefore.ticks.get(pid) ?? 0);
      const cpu = ticks / 100;
      console.log(
        `  ${part} server: backends' CPU ${cpu.toFixed(1)} s (${((cpu / events) * 1e6).toFixed(0)} µs/event), blocks read ${fmt(now.read - serverBefore.read)}, hit ${fmt(now.hit - serverBefore.hit)}, rows written ${fmt(now.written - serverBefore.written)}`,
      );
      serverBefore = now;
    };
    // --timing: time in garbage collection, and the heap, per part.
    let gcMs = 0;
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcMs += entry.duration;
    });
    if (values.timing) gcObserver.observe({ entryTypes: ['gc'] });
    const printTiming = (part: string) => {
      if (!values.timing) return;
      console.log(`  ${part} gc: ${(gcMs / 1000).toFixed(1)} s; heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`);
      gcMs = 0;
      console.log(`  ${part} log reads: ${fmt(reads.calls)} reading ${fmt(reads.events)} events`);
      reads.calls = 0;
      reads.events = 0;
      for (const [n, t] of applyTime) console.log(`  ${part} ${n}: apply ${(t.ms / 1000).toFixed(1)} s in ${t.batches} batches of ${fmt(t.events / t.batches)} events`);
      applyTime.clear();
      // Kept states (customer 360, retention): customers whose state was used, and those read from their rows.
      for (const p of allProjections) {
        type Kept = { hits: number; misses: number; unchecked: number; size: number };
        const cache = (p as { cache?: Kept }).cache ?? (p as { kept?: Kept }).kept;
        if (!cache) continue;
        console.log(
          `  ${part} ${p.name} kept states: ${fmt(cache.hits)} used (${fmt(cache.unchecked)} of them unchecked), ${fmt(cache.misses)} read from their rows, ${fmt(cache.size)} held`,
        );
        cache.hits = 0;
        cache.misses = 0;
        cache.unchecked = 0;
      }
    };

    // 1. The log (the generated events are let go once stored).
    let t0 = performance.now();
    const periodStart = new Date(Date.UTC(2026, 10, 1) - days * 86_400_000);
    {
      const journeys = generateJourneys({ customers, days, seed: 2026, start: periodStart });
      console.log(`bench:projections: ${fmt(journeys.length)} events over ${fmt(customers)} customers and ${days} days, ${redactUrl(baseUrl)}`);
      t0 = performance.now();
      await store(ingest, journeys, lanes, true);
    }
    const stored = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM cx_events')).rows[0].n);
    const storeSeconds = (performance.now() - t0) / 1000;
    const head = await eventStore.headPosition();
    console.log(`\rstored ${fmt(stored)} events in ${storeSeconds.toFixed(0)} s (${fmt(stored / storeSeconds)} events/s through the ingest write path, ${lanes} lanes)`);
    await database.pool.query('VACUUM ANALYZE cx_events');

    // 2. The projector, its projections at the head with empty tables: the first rebuild fills them.
    await database.pool.query(
      `INSERT INTO cx_projection_checkpoints (name, version, position) SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[])`,
      [names, allProjections.map((p) => p.version), names.map(() => head.toString())],
    );
    const phases = new Map<string, string>();
    const projector = () =>
      new ProjectionRunner({
        store: eventStore,
        dataSource: database.dataSource,
        pool: database.pool,
        projections: values.timing ? timed : allProjections,
        lease: true,
        batchSize: Number(process.env.CX_PROJECTION_BATCH_SIZE ?? BATCH),
        logger: {
          log: (message) => {
            const match = /^rebuild of (.+): switched .*; (preparing .*)\)$/.exec(message);
            if (match) phases.set(match[1].split(', ').sort().join(', '), match[2]);
          },
          warn: (message) => console.warn(message),
          error: (message) => console.error(message),
        },
      });
    let runner = projector();
    await runner.start();

    /** Reading the log raw up to `upTo`, in batches of each size in turn: the faster is the baseline. */
    const baseline = async (after = 0n, upTo = head): Promise<number> => {
      let best = 0;
      for (const limit of READ_BATCHES) {
        const begin = performance.now();
        let read = 0;
        for (let from = after; from < upTo; ) {
          const batch = await eventStore.readAll(from, { limit });
          if (batch.length === 0) break;
          read += batch.length;
          from = batch[batch.length - 1].position;
        }
        best = Math.max(best, read / ((performance.now() - begin) / 1000));
      }
      return best;
    };
    /** A blue/green rebuild from position 0, requested as the API does, timed until the switch committed. */
    const rebuild = async (which: readonly string[]): Promise<{ perSecond: number; cpu: number; machineCores: number; phases: string }> => {
      const begin = performance.now();
      const cpu = process.cpuUsage();
      const machine = await machineTicks();
      const rows = await runner.requestRebuild(which);
      const ids = rows.map((r) => r.id);
      for (;;) {
        const { rows: states } = await database.pool.query<{ status: string; error: string | null }>('SELECT status, error FROM cx_projection_rebuilds WHERE id = ANY($1::bigint[])', [ids]);
        if (states.some((s) => s.status === 'failed')) throw new Error(`rebuild failed: ${states.find((s) => s.error)?.error}`);
        if (states.every((s) => s.status === 'done')) break;
        await sleep(10);
      }
      const seconds = (performance.now() - begin) / 1000;
      const used = cpuSeconds(cpu);
      const machineCores = coresBetween(machine, await machineTicks());
      await sleep(200); // the old tables are dropped right after the switch
      return { perSecond: stored / seconds, cpu: used, machineCores, phases: phases.get([...which].sort().join(', ')) ?? '' };
    };

    // 3. Rebuilds: every projection together, then each alone; each after a read of its own.
    const rebuilds: Array<{ label: string; read: number; perSecond: number; cpu: number; machineCores: number; phases: string }> = [];
    const measure = async (label: string, which: readonly string[]) => {
      const read = await baseline();
      const result = await rebuild(which);
      rebuilds.push({ label, read, ...result });
      console.log(
        `rebuild ${label}: ${fmt(result.perSecond)} events/s, ${(result.perSecond / read).toFixed(2)} of the read (${fmt(read)} events/s) (${result.phases}); this process ${result.cpu.toFixed(1)} s of CPU, the machine ${result.machineCores.toFixed(2)} cores`,
      );
    };
    if (!values['no-rebuild'] && !values['no-together']) await measure(`all ${names.length} together`, names);
    if (!values['no-alone'] && !values['no-rebuild']) for (const n of values.alone?.split(',') ?? names) await measure(`${n} alone`, [n]);

    // 4. Live catch-up: the projector down while a week more is stored, then started again.
    await runner.stop();
    {
      const more = generateJourneys({ customers, days: catchUpDays, seed: 2027, start: new Date(Date.UTC(2026, 10, 1)) });
      await store(ingest, more, lanes, false);
    }
    const head2 = await eventStore.headPosition();
    const behind = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM cx_events WHERE position > $1', [head.toString()])).rows[0].n);
    await database.pool.query('VACUUM ANALYZE cx_events');
    const catchUpRead = await baseline(head, head2);
    // --cpu-profile FILE: this process's CPU profile of the catch-up and the lag parts (the projector's work only).
    const profiler = values['cpu-profile'] ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    runner = projector();
    gcMs = 0;
    reads.calls = 0;
    reads.events = 0;
    if (serverBefore) serverBefore = await serverSide();
    t0 = performance.now();
    const catchUpCpu = process.cpuUsage();
    await runner.start();
    while ((await runner.lowestPosition()) < head2) await sleep(10);
    const catchUp = behind / ((performance.now() - t0) / 1000);
    const catchUpCpuSeconds = cpuSeconds(catchUpCpu);
    printTiming('catch-up');
    await printServer('catch-up', behind);
    if (values.timing) console.log(`  catch-up: ${((catchUpCpuSeconds / behind) * 1e6).toFixed(0)} µs of this process's CPU per event`);
    console.log(`\rcatch-up of ${fmt(behind)} events through the runner's apply path (all ${names.length}): ${fmt(catchUp)} events/s (read: ${fmt(catchUpRead)} events/s)`);

    // 5. Lag: the load generator in a worker thread, the projector here; each rate in turn, from
    // the lowest, every projection at the head before the next.
    const lagLoad = loadavg()[0];
    const lags: Lag[] = [];
    for (const [i, rate] of rates.entries()) {
      const head3 = await eventStore.headPosition();
      while ((await runner.lowestPosition()) < head3) await sleep(10);
      // CPU samples when the generator starts sending (its events are generated by then), when it has
      // sent the last, and when every projection has passed that: this process's and the machine's.
      type Sample = { cpu: NodeJS.CpuUsage; machine: ReturnType<typeof machineTicks> };
      const sample = (): Sample => ({ cpu: process.cpuUsage(), machine: machineTicks() });
      const samples: { started?: Sample; sent?: Sample } = {};
      const loop = performance.eventLoopUtilization();
      const load = await new Promise<LoadResult>((resolve, reject) => {
        const input: LoadInput = { url: url.toString(), masterKey, rate, seconds: lagSeconds, lanes: Number(values['load-lanes']), projections: names, seed: 77 + i };
        const worker = new Worker(new URL('./projections-load.worker.js', import.meta.url), { workerData: input });
        worker.on('message', (message: { started?: true; sent?: true; result?: LoadResult; error?: string }) => {
          if (message.started) samples.started = sample();
          else if (message.sent) samples.sent = sample();
          else if (message.result) resolve(message.result);
          else reject(new Error(message.error));
        });
        worker.once('error', reject);
      });
      const ended = sample();
      if (!samples.started || !samples.sent) throw new Error('the load generator did not say when it started and stopped sending');
      const [started, sent, end] = await Promise.all([samples.started.machine, samples.sent.machine, ended.machine]);
      const processSeconds = (from: Sample, to: Sample) => (to.cpu.user + to.cpu.system - from.cpu.user - from.cpu.system) / 1e6;
      const lag: Lag = {
        rate,
        achieved: load.sent / load.seconds,
        accepted: load.accepted,
        sent: load.sent,
        batches: load.lagsMs.length,
        p50: percentile(load.lagsMs, 50),
        p99: percentile(load.lagsMs, 99),
        ingestP99: percentile(load.ingestMs, 99),
        seconds: load.seconds,
        // From the end of the sending until the last batch was seen projected.
        drain: load.drainSeconds,
        loopBusy: performance.eventLoopUtilization(loop).utilization,
        processCores: processSeconds(samples.started, samples.sent) / load.seconds,
        machineCores: coresBetween(started, sent),
        // Everything the machine did from the first event sent until the last was projected, per event.
        machineMicros: (coresBetween(started, end) * (load.seconds + load.drainSeconds) * 1e6) / load.sent,
      };
      lags.push(lag);
      printTiming(`lag at ${fmt(rate)}`);
      await printServer(`lag at ${fmt(rate)}`, load.sent);
      console.log(
        `lag while ingesting ${fmt(lag.achieved)} events/s (target ${fmt(rate)}; ${fmt(lag.accepted)} accepted): p50 ${lag.p50.toFixed(0)} ms, p99 ${lag.p99.toFixed(0)} ms over ${lag.batches} batches; ` +
          `projector's event loop busy ${(lag.loopBusy * 100).toFixed(0)}%; while sending (${lag.seconds.toFixed(1)} s): this process (generator included) ${lag.processCores.toFixed(2)} cores, the machine ${lag.machineCores.toFixed(2)} of ${cpus().length}; the last batch projected ${lag.drain.toFixed(1)} s after the sending ended; ` +
          `the machine's CPU from the first event sent to the last projected: ${lag.machineMicros.toFixed(0)} µs per event (${((lag.machineMicros * rate) / 1e6).toFixed(2)} cores at ${fmt(rate)} events/s)`,
      );
    }
    await runner.stop();
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      await writeFile(values['cpu-profile']!, JSON.stringify(profile));
      profiler.disconnect();
    }
    gcObserver.disconnect();
    await eventStore.close();
    await database.close();

    const all = rebuilds[0];
    const alone = rebuilds.slice(1);
    const satisfaction = alone.find((r) => r.label === 'satisfaction alone')?.perSecond;
    const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    const target = lags.find((l) => l.rate === 5_000);
    report.push(
      `## Projections (\`npm run bench:projections\`)`,
      '',
      `- **Command:** \`DATABASE_URL=${redactUrl(baseUrl)} npm run bench:projections\``,
      `- **Date:** ${new Date().toISOString().slice(0, 19)}Z; the run took ${Math.round((Date.now() - started) / 1000)} s; load average ${lagLoad.toFixed(1)} before the lag part, ${loadavg()[0].toFixed(1)} at the end (the machine is shared).`,
      `- **Machine:** ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; PostgreSQL ${version} on the same host (${serverSettings}).`,
      `- **Log:** ${fmt(stored)} events of generated journeys over ${fmt(customers)} customers and ${days} days (moments, answers rating them, registrations, complaint lifecycles), stored through the ingest write path in ${storeSeconds.toFixed(0)} s (${lanes} batches of ${fmt(BATCH)} at a time).`,
      `- **Projector:** a \`ProjectionRunner\` with all ${names.length} projections in the benchmark's process, as apps/projector runs them (leases, LISTEN/NOTIFY, batches of ${fmt(BATCH)}).`,
      `- **Baseline:** reading every event of the same log with \`readAll\`, folding nothing, in batches of ${READ_BATCHES.map(fmt).join(' and then ')} (the faster), measured right before each rebuild.`,
      `- **Rebuild from position 0:** \`ProjectionRunner.requestRebuild\` (what \`POST /v1/projections/{name}/rebuild\` does), timed from the request until the switch committed (blue/green: fresh tables, bulk folds, indexes, catch-up, switch). Events/s = events in the log ÷ that time; a projection that folds few types reads only those (changes: the generated log has no change events, so its rebuild is only its fixed steps).`,
      '',
      '| rebuild from position 0 | events/s | ratio to the read | read (events/s) | CPU of this process (s) | machine busy (cores) | phases |',
      '|---|---:|---:|---:|---:|---:|---|',
      ...rebuilds.map(
        (r) =>
          `| ${r === all ? `**${r.label}**` : r.label} | ${fmt(r.perSecond)} | ${(r.perSecond / r.read).toFixed(2)} | ${fmt(r.read)} | ${r.cpu.toFixed(1)} | ${Number.isNaN(r.machineCores) ? 'n/a' : r.machineCores.toFixed(2)} | ${r.phases} |`,
      ),
      '',
      `- **Live catch-up** (the runner's apply path, not a rebuild): the projector stopped while ${fmt(behind)} more events (${catchUpDays} more days) were stored, then started again: all ${names.length} projections caught up at **${fmt(catchUp)} events/s** (reading those events raw: ${fmt(catchUpRead)} events/s; ratio ${(catchUp / catchUpRead).toFixed(2)}; ${catchUpCpuSeconds.toFixed(1)} s of this process's CPU).`,
      `- **Lag** while a load generator in a worker thread of its own ingested at each rate below for ${lagSeconds} s (events from ${values['load-lanes']} lanes by customer, each sending its share every 100 ms, through the ingest write path), every projection following the log. Lag: from the append's return until every projection's checkpoint passed it, watched every 10 ms. CPU: while the generator was sending, in cores (this process: the projector and the generator's thread; the machine: everything, PostgreSQL included). Drain: from the end of the sending until the last batch was seen projected. Machine CPU per event: all the machine did from the first event sent until the last was projected (generating aside: the events are made before the sending starts), divided by the events; times the rate, the cores that rate needs on this machine. Each rate starts with every projection at the head.`,
      '',
      '| target rate (events/s) | achieved | lag p50 (ms) | lag p99 (ms) | batches | ingest call p99 (ms) | projector event loop busy | this process (cores) | machine (cores) | drain (s) | machine CPU per event (µs) | cores needed at the rate |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...lags.map(
        (l) =>
          `| ${fmt(l.rate)} | ${fmt(l.achieved)} | ${fmt(l.p50)} | **${fmt(l.p99)}** | ${l.batches} | ${fmt(l.ingestP99)} | ${(l.loopBusy * 100).toFixed(0)}% | ${l.processCores.toFixed(2)} | ${Number.isNaN(l.machineCores) ? 'n/a' : `${l.machineCores.toFixed(2)} of ${cpus().length}`} | ${l.drain.toFixed(1)} | ${Number.isNaN(l.machineMicros) ? 'n/a' : fmt(l.machineMicros)} | ${Number.isNaN(l.machineMicros) ? 'n/a' : ((l.machineMicros * l.rate) / 1e6).toFixed(2)} |`,
      ),
      '',
      `- Targets (issue #4): satisfaction rebuild ≥ 50,000 events/s: ${satisfaction === undefined ? '**not measured**' : `**${pass(satisfaction >= 50_000)}** (${fmt(satisfaction)})`}; lag p99 < 1 s at 5,000 events/s: ${target === undefined ? '**not measured**' : `**${pass(target.p99 < 1000 && target.achieved >= target.rate * 0.98)}**`}.`,
    );
    console.log(`\n${report.join('\n')}`);
    if (!values['no-docs']) {
      await writeDocsSection(join(root, 'docs/benchmarks.md'), 'projections', report.join('\n'));
      console.log('docs/benchmarks.md updated');
    }
  } finally {
    if (!process.env.CX_BENCH_KEEP) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
