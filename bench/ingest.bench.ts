/**
 * `npm run bench:ingest`: CloudEvents over HTTP into the all-in-one app (validation, PII sealing,
 * deciding, one transaction per batch), against appending the same events straight to the event
 * store (the baseline), in the same run, each on a fresh database of the same server.
 *
 *   DATABASE_URL=postgres://… npm run bench:ingest               100,000 events, batches of 500
 *   DATABASE_URL=postgres://… npm run bench:ingest -- --quick    20,000
 *
 * Flags: --events N, --batch 500, --clients 4, --rounds 2, --no-docs.
 */
import { type EventToAppend, PostgresEventStore } from '@cx/event-store';
import { storedEventId } from '@cx/ingest';
import { loadConfig, openDatabase, redactUrl } from '@cx/platform';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { writeDocsSection } from './bench-report.js';
import { seededRandom } from './cx-events.workload.js';

type CloudEvent = { specversion: '1.0'; id: string; source: string; type: string; subject: string; time: string; data: Record<string, unknown> };
type Side = { events: number; elapsedMs: number; latenciesMs: number[] };
/** The all-in-one app's projections after a burst: how far behind the slowest was when it ended, and how long until all had folded it. */
type CatchUp = { behindEvents: number; catchUpMs: number; cpuPerEventUs?: number };

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY = `bench-${randomBytes(12).toString('hex')}`;
const STORED: Record<string, string> = {
  'cx.customer.registered': 'customer.registered.v1',
  'cx.moment.recorded': 'moment.recorded.v1',
  'cx.feedback.submitted': 'feedback.submitted.v1',
  'cx.complaint.filed': 'complaint.filed.v1',
  'cx.complaint.acknowledged': 'complaint.acknowledged.v1',
  'cx.complaint.routed': 'complaint.routed.v1',
  'cx.complaint.resolved': 'complaint.resolved.v1',
  'cx.complaint.confirmed': 'complaint.confirmed.v1',
};

const kinds = ['information', 'advice', 'order_received', 'hospitality', 'belongings_care', 'incident', 'billing', 'payment'];
const channels = ['in_person', 'branch', 'sales_visit', 'phone', 'letter', 'form', 'email', 'web', 'chat', 'app', 'social'];

/**
 * Batches of CloudEvents with the mix channel systems send: mostly moments, then survey
 * answers, registrations, and whole complaint lifecycles (kept inside one batch, so they are
 * decided in order).
 */
function workload(total: number, batchSize: number, customers: number, seed: number): CloudEvent[][] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const time = () => new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 300 * 86_400_000)).toISOString();
  const batches: CloudEvent[][] = [];
  let n = 0;
  const event = (type: string, subject: string, data: Record<string, unknown>): CloudEvent => ({
    specversion: '1.0',
    id: `bench-${seed}-${n++}`,
    source: pick(['urn:cx:callcenter', 'urn:cx:web', 'urn:cx:app', 'urn:cx:branch', 'urn:cx:billing']),
    type,
    subject,
    time: time(),
    data,
  });
  while (n < total) {
    const batch: CloudEvent[] = [];
    while (batch.length < batchSize && n < total) {
      const subject = `c${Math.floor(random() * customers)}`;
      const roll = random();
      if (roll < 0.68) {
        const kind = pick(kinds);
        batch.push(
          event('cx.moment.recorded', subject, {
            kind,
            channel: pick(channels),
            touchpoint: pick(['ivr-main-menu', 'checkout', 'counter-3', 'invoice-portal', 'delivery-window']),
            outcome: pick(['positive', 'neutral', 'negative']),
            waitSeconds: Math.floor(random() * 900),
            expectedWaitSeconds: Math.floor(random() * 600),
            waitExplained: random() < 0.5,
            agentId: `agent-${Math.floor(random() * 400)}`,
            area: pick(['billing', 'logistics', 'support', 'sales']),
            ...(kind === 'payment' ? { amount: Math.round(random() * 50_000) / 100, currency: 'EUR' } : {}),
          }),
        );
      } else if (roll < 0.9) {
        batch.push(
          event('cx.feedback.submitted', subject, {
            nps: Math.floor(random() * 11),
            csat: 1 + Math.floor(random() * 5),
            ...(random() < 0.4 ? { comment: 'La espera fue larga pero la agente resolvió el problema de la factura.' } : {}),
          }),
        );
      } else if (roll < 0.96) {
        batch.push(
          event('cx.customer.registered', subject, {
            name: 'María Fernández López',
            email: `m.fernandez.${n}@example.com`,
            phone: '+34 600 123 456',
            preferredChannel: pick(channels),
            locale: 'es-ES',
          }),
        );
      } else if (batch.length + 5 <= batchSize) {
        const complaintId = `cmp-${seed}-${n}`;
        batch.push(
          event('cx.complaint.filed', subject, { complaintId, category: 'billing', channel: 'phone', severity: pick(['low', 'medium', 'high']), description: 'Cobro duplicado en la factura de marzo' }),
          event('cx.complaint.acknowledged', subject, { complaintId }),
          event('cx.complaint.routed', subject, { complaintId, area: 'billing' }),
          event('cx.complaint.resolved', subject, { complaintId, resolution: 'Refund issued', rootCause: 'duplicate charge' }),
          event('cx.complaint.confirmed', subject, { complaintId }),
        );
      }
    }
    batches.push(batch);
  }
  return batches;
}

/** The same events in the same streams as ingest stores them, for the baseline: one call per batch. */
function asAppends(batch: readonly CloudEvent[]) {
  const byStream = new Map<string, EventToAppend[]>();
  for (const e of batch) {
    const id = storedEventId(e.source, e.id);
    // The streams ingest uses: aggregates for customers and complaints, a stream of its own per fact.
    const stream = e.type.startsWith('cx.complaint.')
      ? `complaint-${e.data.complaintId}`
      : e.type === 'cx.moment.recorded'
        ? `moment-${id}`
        : e.type === 'cx.feedback.submitted'
          ? `feedback-${id}`
          : `customer-${e.subject}`;
    const list = byStream.get(stream) ?? [];
    list.push({
      id,
      type: STORED[e.type],
      data: { ...e.data, customerId: e.subject, at: e.time },
      metadata: { correlationId: 'bench', cloudEvent: { id: e.id, source: e.source, type: e.type, subject: e.subject } },
    });
    byStream.set(stream, list);
  }
  return [...byStream.entries()].map(([streamId, events]) => ({
    streamId,
    events,
    expectedVersion: streamId.startsWith('moment-') || streamId.startsWith('feedback-') ? ('no_stream' as const) : ('any' as const),
  }));
}

/** Appends a batch as ingest does, minus validation, sealing and deciding: aggregates locked, facts created without a lock. */
async function appendOnly(store: PostgresEventStore, batch: readonly CloudEvent[]): Promise<void> {
  const appends = asAppends(batch);
  const aggregates = appends.filter((a) => a.expectedVersion === 'any').map((a) => a.streamId);
  await store.decideAndAppend({ lock: aggregates, read: [] }, () => appends);
}

async function createDatabase(baseUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(baseUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

/** Runs `work` over the batches with `clients` concurrent workers, timing each call. */
async function drive(batches: readonly CloudEvent[][], clients: number, work: (batch: CloudEvent[]) => Promise<void>): Promise<Side> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        const t0 = performance.now();
        await work(batch);
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  return { events: batches.reduce((sum, b) => sum + b.length, 0), elapsedMs: performance.now() - started, latenciesMs };
}

const APPS = { cx: 'dist/apps/cx/src/main.js', ingest: 'dist/apps/ingest/src/main.js' } as const;

/**
 * CPU seconds (user + system) used so far by the PostgreSQL processes on this host (backends,
 * WAL writer, checkpointer, …), from /proc; undefined when none runs here (a server elsewhere).
 * A process that exits between two readings takes its CPU with it: read while the connections are open.
 */
function postgresCpuSeconds(): number | undefined {
  let ticks = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      found = true;
    } catch {
      // Gone meanwhile.
    }
  }
  return found ? ticks / 100 : undefined;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    if (process.env.CX_BENCH_APP_LOG) console.log(`app utime ${Number(fields[11]) / 100} s, stime ${Number(fields[12]) / 100} s`);
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/** The node flags of the npm script that starts `app` (`node --flag … dist/apps/<app>/src/main.js`). */
function startFlags(app: keyof typeof APPS): string[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = (scripts[app === 'cx' ? 'start:dist' : `start:${app}`] ?? '').split(/\s+/);
  const at = words.indexOf(APPS[app]);
  const node = words.lastIndexOf('node', at);
  return at > node && node >= 0 ? words.slice(node + 1, at) : [];
}

async function startApp(databaseUrl: string, app: keyof typeof APPS): Promise<{ url: string; pid?: number; output(): string; stop(): Promise<void> }> {
  // CX_BENCH_PROFILE=<dir>: a CPU profile of the app; CX_BENCH_NODE_ARGS: more node flags for the app (experiments only);
  // CX_BENCH_APP_LOG=<file>: the app's output, written when it stops; CX_BENCH_DIST=<dir>: run the app from another build (A/B).
  const nodeArgs = [
    // The node flags the app's npm script starts it with (package.json: start:dist, start:ingest).
    ...startFlags(app),
    ...(process.env.CX_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CX_BENCH_PROFILE}`] : []),
    ...(process.env.CX_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const entry = process.env.CX_BENCH_DIST ? join(process.env.CX_BENCH_DIST, APPS[app].replace(/^dist\//, '')) : join(root, APPS[app]);
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', CX_API_KEYS: `${KEY}:ingest`, CX_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'info', CX_DB_POOL_SIZE: '10' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 30_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /ready on (http:\/\/[^\s"]+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(match[1].replace('localhost', '127.0.0.1'));
      } else if (Date.now() > deadline || child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`app did not start:\n${output}`));
      }
    }, 50);
  });
  return {
    url,
    pid: child.pid,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
      if (process.env.CX_BENCH_APP_LOG) writeFileSync(process.env.CX_BENCH_APP_LOG, output);
    },
  };
}

/** Events past the lowest checkpoint of the app's projections, and whether every projection has folded up to the head. */
async function projectionsBehind(client: pg.Client): Promise<{ behind: number; caughtUp: boolean }> {
  const { rows } = await client.query<{ behind: string; caught_up: boolean }>(
    `SELECT (SELECT count(*) FROM cx_events WHERE position > c.low) AS behind,
            c.low >= (SELECT coalesce(max(position), 0) FROM cx_events) AS caught_up
       FROM (SELECT min(position) AS low FROM cx_projection_checkpoints) AS c`,
  );
  return { behind: Number(rows[0].behind), caughtUp: rows[0].caught_up };
}

/** Waits until every projection of the app has folded the whole log; the time it took and how far behind they were when called. */
async function waitForProjections(databaseUrl: string): Promise<{ behindEvents: number; catchUpMs: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const t0 = performance.now();
    const first = await projectionsBehind(client);
    let state = first;
    const deadline = Date.now() + 600_000;
    while (!state.caughtUp) {
      if (Date.now() > deadline) throw new Error(`the projections did not catch up within 10 minutes (${state.behind} events behind)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = await projectionsBehind(client);
    }
    return { behindEvents: first.behind, catchUpMs: performance.now() - t0 };
  } finally {
    await client.end();
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      quick: { type: 'boolean', default: false },
      batch: { type: 'string', default: '500' },
      clients: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '2' },
      'no-docs': { type: 'boolean', default: false },
      app: { type: 'string', default: 'cx' },
    },
  });
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('bench:ingest measures a real PostgreSQL server: set DATABASE_URL');
  if (values.app !== 'cx' && values.app !== 'ingest') throw new Error('--app takes cx (the all-in-one app, projections running) or ingest (the ingest app alone)');
  const appName = values.app as keyof typeof APPS;
  const total = Number(values.events ?? (values.quick ? 20_000 : 100_000));
  const batchSize = Number(values.batch);
  const clients = Number(values.clients);
  const rounds = Number(values.rounds);
  const started = Date.now();
  console.log(`bench:ingest: ${fmt(total)} events per side and round, batches of ${batchSize}, ${clients} clients, ${rounds} rounds, ${redactUrl(baseUrl)}`);

  const sides: Record<'http' | 'append', Side[]> = { http: [], append: [] };
  const catchUps: CatchUp[] = [];
  const names: string[] = [];
  const appCpuPerEvent: number[] = [];
  // PostgreSQL's CPU per event (every postgres process on this host) during each side's burst.
  const baselineServerCpuPerEvent: number[] = [];
  const httpServerCpuPerEvent: number[] = [];
  const baselineCpuPerEvent: number[] = [];
  const clientCpuPerEvent: number[] = [];
  const loadAtStart = loadavg()[0];
  try {
    for (let round = 0; round < rounds; round++) {
      const batches = workload(total, batchSize, 20_000, 1000 + round);
      const bytes = Buffer.byteLength(JSON.stringify(batches[0])) / batches[0].length;

      const appendDb = `cx_bench_ingest_a_${randomBytes(4).toString('hex')}`;
      names.push(appendDb);
      const database = await openDatabase({ databaseUrl: await createDatabase(baseUrl, appendDb), dataDir: 'unused', dbPoolSize: clients + 2 });
      const store = new PostgresEventStore({ pool: database.pool });
      await drive(batches.slice(0, 4), clients, (batch) => appendOnly(store, batch));
      await database.pool.query('TRUNCATE cx_events');
      const cpu0 = process.cpuUsage();
      const serverCpu0 = postgresCpuSeconds();
      const append = await drive(batches, clients, (batch) => appendOnly(store, batch));
      const serverCpu = postgresCpuSeconds();
      const benchCpu = process.cpuUsage(cpu0);
      baselineCpuPerEvent.push((benchCpu.user + benchCpu.system) / append.events);
      if (serverCpu0 !== undefined && serverCpu !== undefined) baselineServerCpuPerEvent.push(((serverCpu - serverCpu0) * 1e6) / append.events);
      await store.close();
      await database.close();
      sides.append.push(append);
      console.log(
        `round ${round + 1} append-only: ${fmt((append.events / append.elapsedMs) * 1000)} events/s (${Math.round(bytes)} bytes of JSON per CloudEvent; ` +
          `${((benchCpu.user + benchCpu.system) / append.events).toFixed(1)} µs of this process's CPU per event)`,
      );

      const httpDb = `cx_bench_ingest_h_${randomBytes(4).toString('hex')}`;
      names.push(httpDb);
      const httpUrl = await createDatabase(baseUrl, httpDb);
      const app = await startApp(httpUrl, appName);
      // The load generator stands in for channel systems, which run on machines of their own: it
      // serialises the bodies before the clock starts and posts them over kept-alive node:http
      // connections, so that as little as possible of the two cores goes to it (its CPU is reported).
      const bodies = new Map<CloudEvent[], Buffer>(batches.map((batch) => [batch, Buffer.from(JSON.stringify(batch))]));
      const agent = new Agent({ keepAlive: true, maxSockets: clients });
      const { hostname, port } = new URL(app.url);
      const postBatch = (batch: CloudEvent[]) =>
        new Promise<void>((resolve, reject) => {
          const body = bodies.get(batch) ?? Buffer.from(JSON.stringify(batch));
          const req = request(
            {
              agent,
              hostname,
              port,
              path: '/v1/events',
              method: 'POST',
              headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/cloudevents-batch+json', 'content-length': body.length },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (chunk: Buffer) => chunks.push(chunk));
              res.on('error', reject);
              res.on('end', () => {
                try {
                  const outcome = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { rejected: number; results: Array<{ errors?: unknown }> };
                  if (res.statusCode !== 200 || outcome.rejected > 0) {
                    reject(new Error(`HTTP ${res.statusCode}: ${JSON.stringify(outcome.results?.find((r) => r.errors) ?? outcome).slice(0, 400)}`));
                  } else resolve();
                } catch (error) {
                  reject(new Error(`HTTP ${res.statusCode}: ${(error as Error).message}`));
                }
              });
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      let http: Side;
      try {
        await drive(workload(2_000, batchSize, 20_000, 99), clients, postBatch);
        // The burst starts with the projections caught up on the warm-up.
        if (appName === 'cx') await waitForProjections(httpUrl);
        const appCpu0 = cpuSecondsOf(app.pid);
        const serverCpu0 = postgresCpuSeconds();
        const clientCpu0 = process.cpuUsage();
        http = await drive(batches, clients, postBatch);
        const clientCpu = process.cpuUsage(clientCpu0);
        const serverCpu = postgresCpuSeconds();
        const appCpu = cpuSecondsOf(app.pid);
        if (serverCpu0 !== undefined && serverCpu !== undefined) httpServerCpuPerEvent.push(((serverCpu - serverCpu0) * 1e6) / http.events);
        clientCpuPerEvent.push((clientCpu.user + clientCpu.system) / http.events);
        if (appCpu0 !== undefined && appCpu !== undefined) appCpuPerEvent.push(((appCpu - appCpu0) * 1e6) / http.events);
        if (appName === 'cx') {
          // What folding alongside did not do during the burst is still owed: wait for it, and count its CPU too.
          const caught = await waitForProjections(httpUrl);
          const appCpuCaughtUp = cpuSecondsOf(app.pid);
          catchUps.push({ ...caught, ...(appCpu0 !== undefined && appCpuCaughtUp !== undefined ? { cpuPerEventUs: ((appCpuCaughtUp - appCpu0) * 1e6) / http.events } : {}) });
        }
      } catch (error) {
        console.error(app.output().split('\n').filter((line) => !line.includes('"msg":"request"')).slice(-8).join('\n'));
        throw error;
      } finally {
        agent.destroy();
        await app.stop();
      }
      sides.http.push(http);
      console.log(
        `round ${round + 1} HTTP ingest: ${fmt((http.events / http.elapsedMs) * 1000)} events/s, p99 ${percentile(http.latenciesMs, 99).toFixed(1)} ms per request` +
          (appCpuPerEvent.length > round ? `; ${appCpuPerEvent[round].toFixed(1)} µs of the app's CPU per event` : '') +
          (catchUps.length > round
            ? `; projections ${fmt(catchUps[round].behindEvents)} events behind at the end, caught up ${(catchUps[round].catchUpMs / 1000).toFixed(1)} s later` +
              (catchUps[round].cpuPerEventUs !== undefined ? ` (${catchUps[round].cpuPerEventUs!.toFixed(1)} µs of the app's CPU per event with the catch-up)` : '')
            : ''),
      );
    }
  } finally {
    for (const name of names) await dropDatabase(baseUrl, name).catch(() => undefined);
  }

  const sum = (list: Side[]) => ({
    events: list.reduce((s, x) => s + x.events, 0),
    ms: list.reduce((s, x) => s + x.elapsedMs, 0),
    latencies: list.flatMap((x) => x.latenciesMs),
  });
  const http = sum(sides.http);
  const append = sum(sides.append);
  const httpRate = (http.events / http.ms) * 1000;
  const appendRate = (append.events / append.ms) * 1000;
  const ratio = httpRate / appendRate;
  const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const server = new pg.Client({ connectionString: baseUrl });
  await server.connect();
  const version = (await server.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  await server.end();

  const table = [
    '| side | events/s | p50 ms per batch | p99 ms per batch |',
    '|---|---:|---:|---:|',
    `| HTTP ingest (${appName === 'cx' ? 'all-in-one app, projections folding alongside' : 'ingest app alone'}) | ${fmt(httpRate)} | ${percentile(http.latencies, 50).toFixed(1)} | ${percentile(http.latencies, 99).toFixed(1)} |`,
    `| append-only baseline (the event store alone, in process) | ${fmt(appendRate)} | ${percentile(append.latencies, 50).toFixed(1)} | ${percentile(append.latencies, 99).toFixed(1)} |`,
  ].join('\n');
  const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
  const cpuLine =
    appCpuPerEvent.length > 0
      ? `- CPU per event: the app ${mean(appCpuPerEvent).toFixed(1)} µs (its process, from /proc), the baseline ${mean(baselineCpuPerEvent).toFixed(1)} µs (the benchmark's process), the HTTP load generator ${mean(clientCpuPerEvent).toFixed(1)} µs (the benchmark's process, on the same cores); ` +
        (httpServerCpuPerEvent.length > 0 && baselineServerCpuPerEvent.length > 0
          ? `PostgreSQL ${mean(httpServerCpuPerEvent).toFixed(1)} µs during HTTP ingest and ${mean(baselineServerCpuPerEvent).toFixed(1)} µs during the baseline (every postgres process on this host, from /proc). `
          : "PostgreSQL's CPU not counted (no server on this host). ") +
        `Load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (${cpus().length} cores).`
      : `- Load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (${cpus().length} cores).`;
  // What the target rate asks of this machine's cores at this CPU per event (the app, the load generator and the server share them).
  const allToldUs = appCpuPerEvent.length > 0 && httpServerCpuPerEvent.length > 0 ? mean(appCpuPerEvent) + mean(clientCpuPerEvent) + mean(httpServerCpuPerEvent) : undefined;
  const coresLine =
    allToldUs === undefined
      ? undefined
      : `- All told (app + load generator + PostgreSQL) HTTP ingest used ${allToldUs.toFixed(1)} µs of CPU per event: ${fmt(25_000)} events/s at that cost would take ${((allToldUs * 25_000) / 1e6).toFixed(2)} cores, this machine has ${cpus().length}.`;
  // The app runs with this process's environment: its deferral bounds are the ones loadConfig reads here.
  const defer = loadConfig(process.env).projectionDefer;
  const catchUpLine =
    catchUps.length > 0
      ? `- Projections (all seven, same process): when the burst ended the slowest was ${catchUps.map((c) => fmt(c.behindEvents)).join(' and ')} events behind; all had caught up ${catchUps.map((c) => (c.catchUpMs / 1000).toFixed(1)).join(' and ')} s later (per round). ` +
        `Ingest first: ${defer.maxMs === 0 ? 'off (CX_PROJECTION_DEFER_MS=0)' : `on (projections defer at most ${fmt(defer.maxMs)} ms in a stretch, never when ${fmt(defer.maxEvents)} events behind)`}` +
        (catchUps.every((c) => c.cpuPerEventUs !== undefined) ? `; the app's CPU per event counting the catch-up: ${mean(catchUps.map((c) => c.cpuPerEventUs!)).toFixed(1)} µs.` : '.')
      : undefined;
  const summary = [
    `- HTTP ingest: **${fmt(httpRate)} events/s** (target ≥ 25,000): **${pass(httpRate >= 25_000)}**`,
    `- ratio to the append-only baseline: **${ratio.toFixed(2)}** (target ≥ 0.5): **${pass(ratio >= 0.5)}**`,
    cpuLine,
    ...(coresLine ? [coresLine] : []),
    ...(catchUpLine ? [catchUpLine] : []),
  ].join('\n');
  console.log(`\n${table}\n\n${summary}\n\nthe run took ${Math.round((Date.now() - started) / 1000)} s`);

  if (!values['no-docs']) {
    await writeDocsSection(
      join(root, 'docs/benchmarks.md'),
      `ingest-${appName}`,
      `## Ingest over HTTP into the ${appName === 'cx' ? 'all-in-one app' : 'ingest app'} (\`npm run bench:ingest${appName === 'cx' ? '' : ' -- --app ingest'}\`)

- **Command:** \`DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:ingest${appName === 'cx' ? '' : ' -- --app ingest'}\`
- **Date:** ${new Date().toISOString().slice(0, 19)}Z; the run took ${Math.round((Date.now() - started) / 1000)} s.
- **Machine:** ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; PostgreSQL ${version} on the same host.
- **Workload:** per side and round, ${fmt(total)} CloudEvents in batches of ${batchSize} over 20,000 customers: about 68% moments of truth, 22% survey answers (40% with a comment, sealed), 6% registrations (name, email, phone sealed), the rest whole complaint lifecycles (filed → confirmed in one batch); ${clients} concurrent clients; ${rounds} rounds, the two sides taking turns, each on a fresh database.
- **HTTP ingest:** \`POST /v1/events\` (\`application/cloudevents-batch+json\`) on the ${appName === 'cx' ? 'all-in-one app (its seven projections folding every event in the same process and database, deferring while it ingests within the bounds below)' : 'ingest app (apps/ingest: no projections in the process)'} as its own process started with the node flags of its npm script (\`${startFlags(appName).join(' ') || 'none'}\`; JSON request logs on), posted to by ${clients} clients in the benchmark's process (bodies serialised before the clock starts, node:http with kept-alive connections): validation, PII sealing with per-customer keys, deciding complaints against their streams, one \`decideAndAppend\` transaction per batch. Latency is per request.
- **Baseline:** the same events (same ids, data and streams, not sealed) appended as ingest appends them (\`decideAndAppend\`: the batch's customer and complaint streams locked, each fact a new stream), one call per batch, from the benchmark's process: the event store alone, without HTTP, validation, sealing or deciding.

${table}

${summary}`,
    );
    console.log('docs/benchmarks.md updated');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
