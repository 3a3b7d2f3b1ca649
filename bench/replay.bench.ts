/**
 * `npm run bench:replay` (first half): replaying one customer's journey as of the middle of their
 * history, on a real PostgreSQL server.
 *
 *  1. A fresh database: one customer with 10,000 events (moments on six channels, answers,
 *     complaint lifecycles, tier moves) interleaved with about 90,000 events of generated
 *     background customers, all through the ingest write path (validation, sealing, deciding).
 *  2. The query app (apps/query: folds nothing) as its own process on that database.
 *  3. Interleaved, after a warm-up: `GET /v1/customers/{id}/journey?asOf=<middle position>` end to
 *     end over HTTP (default page of 100 events, and the largest page, 1,000), the same as of the
 *     middle time, the replay in-process (JourneyReplayer, no HTTP), and the baseline: reading the
 *     same rows from the log as the replay reads them (readCustomerTimeline), folding nothing.
 *
 *   DATABASE_URL=postgres://… npm run bench:replay
 *
 * Flags: --events 10000 (the customer's), --background 90000, --runs 20, --warmup 5, --no-docs;
 * CX_BENCH_KEEP=1 keeps the database (to look at plans) instead of dropping it.
 */
import { createMomentCatalogue } from '@cx/domain';
import { inCustomerSnapshot, PostgresEventStore, readCustomerTimeline } from '@cx/event-store';
import { IngestService } from '@cx/ingest';
import { MasterKey, openDatabase, PiiVault, redactUrl } from '@cx/platform';
import { JourneyReplayer, readModelSchema } from '@cx/projections';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
// Straight from the file, not @cx/testing: its index also loads test-only helpers (Jest's Kafka wrappers).
import { type CloudEventJson, generateJourneys } from '../libs/testing/src/journeys.js';
import { writeDocsSection } from './bench-report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY = `bench-read-${randomBytes(8).toString('hex')}`;
const CUSTOMER = 'cust-replay-bench-0001';
const TARGET_MS = 100;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

const KINDS = ['information', 'advice', 'order_received', 'hospitality', 'belongings_care', 'incident', 'billing', 'payment'];
const CHANNELS = ['phone', 'web', 'app', 'email', 'branch', 'chat'];

/**
 * The customer's history as CloudEvents, `events` stored events long: a registration (tier A),
 * then contacts 47 minutes apart: moments (a bad one every 7th, a wait on the phone), an answer
 * after every third (NPS, CSAT, CES), a complaint every 40 contacts that goes filed → acknowledged
 * → routed → resolved → confirmed → closed over the next contacts, and a tier move every 500.
 */
function focalHistory(events: number): CloudEventJson[] {
  const out: CloudEventJson[] = [];
  let stored = 0;
  let at = Date.UTC(2024, 0, 1, 8);
  let n = 0;
  const ce = (type: string, data: Record<string, unknown>, weight = 1) => {
    out.push({ specversion: '1.0', id: `replay-bench-${++n}`, source: 'urn:cx:bench', type, subject: CUSTOMER, time: new Date(at).toISOString(), data });
    stored += weight;
  };
  ce('cx.customer.registered', { name: 'Ana García Pérez', email: 'ana.garcia@example.com', phone: '+34 600 000 001', tier: 'A' }, 2);
  const pending: Array<{ due: number; step: string; complaintId: string; data?: Record<string, unknown> }> = [];
  let tier = 'A';
  for (let i = 0; stored < events; i++) {
    at += 47 * 60_000;
    const due = pending.findIndex((p) => p.due <= i);
    if (due >= 0) {
      const [p] = pending.splice(due, 1);
      ce(`cx.complaint.${p.step}`, { complaintId: p.complaintId, ...p.data });
      continue;
    }
    if (i % 500 === 499 && stored + 2 <= events) {
      tier = tier === 'A' ? 'B' : 'A';
      ce('cx.customer.updated', { tier, locale: i % 1000 === 999 ? 'es-ES' : 'ca-ES' }, 2);
      continue;
    }
    if (i % 40 === 39 && stored + 6 <= events) {
      const complaintId = `CMP-bench-${i}`;
      ce('cx.complaint.filed', { complaintId, category: 'billing', channel: 'phone', severity: i % 80 === 79 ? 'high' : 'medium', description: 'Cobro duplicado.' });
      pending.push(
        { due: i + 1, step: 'acknowledged', complaintId },
        { due: i + 2, step: 'routed', complaintId, data: { area: 'billing' } },
        { due: i + 5, step: 'resolved', complaintId, data: { resolution: 'Refunded.' } },
        { due: i + 8, step: 'confirmed', complaintId },
        { due: i + 9, step: 'closed', complaintId },
      );
      continue;
    }
    if (i % 3 === 2) {
      ce('cx.feedback.submitted', { nps: (i * 7) % 11, csat: 1 + (i % 5), ces: 1 + (i % 7), ...(i % 9 === 8 ? { comment: 'Todo bien, gracias.' } : {}) });
      continue;
    }
    const kind = KINDS[i % KINDS.length];
    const channel = CHANNELS[i % CHANNELS.length];
    ce('cx.moment.recorded', {
      kind,
      channel,
      outcome: i % 7 === 0 ? 'negative' : i % 5 === 0 ? 'neutral' : 'positive',
      ...(channel === 'phone' ? { waitSeconds: (i * 13) % 600 } : {}),
      ...(kind === 'payment' ? { amount: 10 + (i % 90), currency: 'EUR' } : {}),
    });
  }
  return out;
}

async function startQueryApp(databaseUrl: string, masterKey: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(root, 'dist/apps/query/src/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      CX_API_KEYS: `${KEY}:read`,
      CX_MASTER_KEY: masterKey,
      CX_TIER_INTERVAL_MINUTES: '0',
      CX_RETENTION_ALERT_INTERVAL_SECONDS: '0',
      LOG_LEVEL: 'info',
    },
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
        reject(new Error(`the query app did not start:\n${output}`));
      }
    }, 50);
  });
  // Keep only the tail of the output: the request log of thousands of calls is not needed.
  child.stdout.on('data', () => (output = output.slice(-10_000)));
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

type Side = { name: string; run: () => Promise<{ folded: number; returned: number }> };

async function main() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000' },
      background: { type: 'string', default: '90000' },
      runs: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('bench:replay measures a real PostgreSQL server: set DATABASE_URL');
  const focalEvents = Number(values.events);
  const backgroundEvents = Number(values.background);
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const started = Date.now();
  const name = `cx_bench_replay_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const secret = randomBytes(32);
  let app: Awaited<ReturnType<typeof startQueryApp>> | undefined;
  try {
    const database = await openDatabase({ databaseUrl: url.toString(), dataDir: 'unused', dbPoolSize: 4 }, readModelSchema);
    const store = new PostgresEventStore({ pool: database.pool });
    const vault = new PiiVault({ pool: database.pool, masterKey: new MasterKey(secret, 'env') });
    const ingest = new IngestService(store, vault, createMomentCatalogue());

    // 1. The log: the customer's history spread evenly through the background's.
    const focal = focalHistory(focalEvents);
    const background = generateJourneys({ customers: Math.max(1, Math.round(backgroundEvents / 21)), days: 35, seed: 2027 }).slice(0, backgroundEvents);
    console.log(`bench:replay: ${fmt(focalEvents)} events of ${CUSTOMER} among ${fmt(background.length)} of other customers, ${redactUrl(baseUrl)}`);
    const rounds = Math.max(1, Math.ceil(background.length / 1000));
    const focalPerRound = Math.ceil(focal.length / rounds);
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const batch of [background.slice(r * 1000, (r + 1) * 1000), focal.slice(r * focalPerRound, (r + 1) * focalPerRound)]) {
        if (batch.length === 0) continue;
        const outcome = await ingest.ingest(batch, { correlationId: 'bench-replay' });
        if (outcome.rejected > 0) throw new Error(`rejected: ${JSON.stringify(outcome.results.find((x) => x.status === 'rejected'))}`);
      }
      process.stdout.write(`\rstoring: round ${r + 1}/${rounds}`);
    }
    await database.pool.query('VACUUM ANALYZE cx_events');
    const { rows: counts } = await database.pool.query<{ total: string; focal: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE data->>'customerId' = $1) AS focal FROM cx_events`,
      [CUSTOMER],
    );
    const total = Number(counts[0].total);
    const stored = Number(counts[0].focal);
    console.log(`\rstored ${fmt(total)} events (${fmt(stored)} of ${CUSTOMER}) in ${((performance.now() - t0) / 1000).toFixed(0)} s through the ingest write path`);

    // The middle of the customer's history: their event number stored / 2, by position and by time.
    const { rows: middle } = await database.pool.query<{ position: string; recorded_at: Date }>(
      `SELECT position, recorded_at FROM cx_events WHERE data->>'customerId' = $1 ORDER BY position OFFSET $2 LIMIT 1`,
      [CUSTOMER, Math.floor(stored / 2) - 1],
    );
    const middlePosition = middle[0].position;
    const middleTime = new Date(middle[0].recorded_at.getTime() + 1).toISOString();

    app = await startQueryApp(url.toString(), secret.toString('base64'));
    const replayer = new JourneyReplayer(database.pool, vault);
    const http = (query: string) => async () => {
      const response = await fetch(`${app!.url}/v1/customers/${CUSTOMER}/journey?${query}`, { headers: { authorization: `Bearer ${KEY}` } });
      const body = (await response.json()) as { events: unknown[]; state: { events: number } };
      if (response.status !== 200) throw new Error(`${response.status}: ${JSON.stringify(body)}`);
      return { folded: body.state.events, returned: body.events.length };
    };
    const sides: Side[] = [
      { name: 'HTTP `?asOf=<position>` (page of 100)', run: http(`asOf=${middlePosition}`) },
      { name: 'HTTP `?asOf=<position>&limit=1000`', run: http(`asOf=${middlePosition}&limit=1000`) },
      { name: 'HTTP `?asOf=<time>` (page of 100)', run: http(`asOf=${encodeURIComponent(middleTime)}`) },
      {
        name: 'in-process replay (JourneyReplayer, page of 100)',
        run: async () => {
          const page = await replayer.replay(CUSTOMER, { after: 0n, limit: 100, asOf: { position: BigInt(middlePosition) } });
          return { folded: page!.state.events, returned: page!.events.length };
        },
      },
      {
        name: 'baseline: the same rows read from the log, folding nothing',
        run: async () => {
          const events = await inCustomerSnapshot(database.pool, (client) =>
            readCustomerTimeline(client, CUSTOMER, { upTo: BigInt(middlePosition), limit: 10_000, metadata: 'ids' }),
          );
          return { folded: 0, returned: events.length };
        },
      },
    ];
    const loadBefore = loadavg()[0];
    const samples = sides.map(() => [] as number[]);
    const shapes = sides.map(() => ({ folded: 0, returned: 0 }));
    for (let i = 0; i < warmup + runs; i++) {
      // Rotate the order every run, so no side always follows another.
      for (let k = 0; k < sides.length; k++) {
        const s = (k + i) % sides.length;
        const t = performance.now();
        shapes[s] = await sides[s].run();
        if (i >= warmup) samples[s].push(performance.now() - t);
      }
    }
    if (shapes[0].folded !== Math.floor(stored / 2) || shapes[4].returned !== shapes[0].folded) {
      throw new Error(`the replay folded ${shapes[0].folded} events, the raw read found ${shapes[4].returned}; expected ${Math.floor(stored / 2)}`);
    }
    const loadAfter = loadavg()[0];
    await app.stop();
    app = undefined;
    await store.close();
    await database.close();

    const baseline = percentile(samples[4], 50);
    const results = sides.map((side, s) => ({ name: side.name, ...shapes[s], p50: percentile(samples[s], 50), p95: percentile(samples[s], 95) }));
    const replayP50 = results[0].p50;
    const replayP95 = results[0].p95;
    const pass = replayP50 < TARGET_MS;
    const report = [
      '## Journey replay (`npm run bench:replay`)',
      '',
      '- **Command:** `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:replay`',
      `- **Date:** ${new Date().toISOString().slice(0, 19)}Z; the run took ${Math.round((Date.now() - started) / 1000)} s.`,
      `- **Machine:** ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; PostgreSQL on the same host. Load average (1 min) ${loadBefore.toFixed(1)} when the measurements began, ${loadAfter.toFixed(1)} when they ended: other work shared the cores.`,
      `- **Log:** ${fmt(total)} events: ${fmt(stored)} of one customer (moments on six channels, answers, a complaint lifecycle every 40 contacts, a tier move every 500) spread evenly among ${fmt(total - stored)} of generated background customers; all stored through the ingest write path (personal data sealed).`,
      `- **Replay:** as of the middle of the customer's history (log position ${middlePosition}: ${fmt(shapes[0].folded)} of their events read through the log's customer index and folded with the customer 360 rules, what each event changed, personal data opened for the page and the profile). HTTP: the query app (folds nothing) as its own process, request to parsed JSON.`,
      `- **Baseline:** the same ${fmt(shapes[4].returned)} rows read from the log exactly as the replay reads them (\`readCustomerTimeline\` through the customer index, in one snapshot, rows parsed by the driver), folding nothing: no fold, no personal data opened, no HTTP.`,
      `- **Method:** ${warmup} warm-up rounds, then ${runs} rounds; in each round every side runs once, in an order that rotates from round to round.`,
      '',
      '| side | events folded | events returned | p50 ms | p95 ms | p50 ÷ baseline p50 |',
      '|---|---:|---:|---:|---:|---:|',
      ...results.map((r) => `| ${r.name} | ${r.folded ? fmt(r.folded) : '-'} | ${fmt(r.returned)} | ${ms(r.p50)} | ${ms(r.p95)} | ${(r.p50 / baseline).toFixed(2)} |`),
      '',
      `- Target: replaying the ${fmt(focalEvents)}-event customer as of the middle under ${TARGET_MS} ms (HTTP, p50): **${pass ? 'PASS' : 'FAIL'}** (${ms(replayP50)} ms; p95 ${ms(replayP95)} ms).`,
    ];
    console.log(`\n${report.join('\n')}`);
    if (!values['no-docs']) {
      await writeDocsSection(join(root, 'docs/benchmarks.md'), 'replay', report.join('\n'));
      console.log('docs/benchmarks.md updated');
    }
  } finally {
    await app?.stop().catch(() => undefined);
    if (!process.env.CX_BENCH_KEEP) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    else console.log(`kept ${name}`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
