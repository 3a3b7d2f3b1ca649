/**
 * `npm run bench:append`: event store append throughput against the physical limit of the same
 * database in the same run. See docs/benchmarks.md for the method and the recorded figures.
 *
 *   DATABASE_URL=postgres://… npm run bench:append                 100,000 events per scenario
 *   DATABASE_URL=postgres://… npm run bench:append -- --quick      10,000, a sanity run
 *   npm run bench:append                                           embedded PGlite, 10,000
 *
 * Flags: --events N, --quick, --batches 1,10,100, --writers 1,8, --customers 5000,
 * --segments 10 (even; fewer when a segment would be too short), --docs / --no-docs
 * (by default only a full, standard run against a real server writes docs/benchmarks.md).
 */
import { PostgresEventStore } from '@cx/event-store';
import { type Database, openDatabase, redactUrl } from '@cx/platform';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Pool } from 'pg';
import {
  renderTable,
  type ScenarioResult,
  type SideTotals,
  summarize,
  TARGET_BATCH,
  TARGET_RATIO,
  verdict,
  writeDocsSection,
} from './bench-report.js';
import { type BenchAppend, buildWorkload, meanEventBytes } from './cx-events.workload.js';

const BASELINE_TABLE = 'bench_baseline';
const STANDARD = { batches: '1,10,100', writers: '1,8' };
const MIN_CALLS_PER_WRITER = 12;
const USAGE =
  'usage: [DATABASE_URL=postgres://…] npm run bench:append -- [--events N | --quick] [--batches 1,10,100] [--writers 1,8]\n' +
  '       [--customers 5000] [--segments 10] [--docs | --no-docs]';

type Side = 'store' | 'baseline';
type Call = (append: BenchAppend) => Promise<unknown>;

let interrupted = false;

function positiveIntegers(flag: string, raw: string): number[] {
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((v) => !Number.isSafeInteger(v) || v < 1)) {
    throw new Error(`--${flag} takes positive integers separated by commas, got ${JSON.stringify(raw)}`);
  }
  return values;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      quick: { type: 'boolean', default: false },
      batches: { type: 'string', default: STANDARD.batches },
      writers: { type: 'string', default: STANDARD.writers },
      customers: { type: 'string', default: '5000' },
      segments: { type: 'string', default: '10' },
      docs: { type: 'boolean' },
      'no-docs': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const defaultEvents = databaseUrl ? (values.quick ? 10_000 : 100_000) : values.quick ? 2_000 : 10_000;
  const events = values.events === undefined ? defaultEvents : positiveIntegers('events', values.events)[0];
  const [segments] = positiveIntegers('segments', values.segments);
  if (segments % 2 !== 0) throw new Error('--segments must be even: store and baseline take turns in pairs');
  const standard =
    values.events === undefined && !values.quick && values.batches === STANDARD.batches && values.writers === STANDARD.writers;
  return {
    databaseUrl,
    events,
    quick: values.quick,
    batches: positiveIntegers('batches', values.batches),
    writers: positiveIntegers('writers', values.writers),
    customers: positiveIntegers('customers', values.customers)[0],
    segments,
    writeDocs: values['no-docs'] ? false : (values.docs ?? (databaseUrl !== undefined && standard)),
  };
}

type Options = ReturnType<typeof parseOptions>;

/** A fresh database of its own on the server (dropped at the end), or in-memory PGlite. */
async function openBenchDatabase(options: Options, poolSize: number): Promise<{ db: Database; name: string; drop(): Promise<void> }> {
  const baseUrl = options.databaseUrl;
  if (!baseUrl) {
    const db = await openDatabase({ dataDir: 'memory', dbPoolSize: 1 });
    return { db, name: 'memory', drop: async () => undefined };
  }
  const name = `cx_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  try {
    const db = await openDatabase({ databaseUrl: url.toString(), dataDir: 'unused', dbPoolSize: poolSize });
    return { db, name, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  } catch (error) {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    throw error;
  }
}

/** The limit: a bare table with the same columns, defaults, identity, constraints and indexes as cx_events. */
async function createBaselineTable(pool: Pool): Promise<void> {
  await pool.query(`CREATE TABLE ${BASELINE_TABLE} (LIKE cx_events INCLUDING ALL)`);
  const indexes = await pool.query<{ table: string; definition: string }>(
    `SELECT tablename AS table, regexp_replace(indexdef, '^.* USING ', '') AS definition
       FROM pg_indexes WHERE tablename IN ('cx_events', $1) ORDER BY 2`,
    [BASELINE_TABLE],
  );
  const of = (table: string) => indexes.rows.filter((r) => r.table === table).map((r) => r.definition).join('; ');
  if (of('cx_events') !== of(BASELINE_TABLE)) {
    throw new Error(`the baseline's indexes differ from cx_events': ${of(BASELINE_TABLE)} vs ${of('cx_events')}`);
  }
}

/** One plain multi-row INSERT per batch, in its own (autocommit) transaction. */
function baselineInsert(pool: Pool): Call {
  const statements = new Map<number, string>();
  const statement = (rows: number) => {
    let sql = statements.get(rows);
    if (!sql) {
      const tuples = Array.from({ length: rows }, (_, r) => {
        const p = r * 6;
        return `($${p + 1}::uuid, $${p + 2}, $${p + 3}::bigint, $${p + 4}, $${p + 5}::jsonb, $${p + 6}::jsonb)`;
      });
      sql = `INSERT INTO ${BASELINE_TABLE} (event_id, stream_id, stream_version, type, data, metadata) VALUES ${tuples.join(', ')}`;
      statements.set(rows, sql);
    }
    return sql;
  };
  return (append) => {
    const params: unknown[] = [];
    append.events.forEach((event, i) => {
      params.push(
        event.id,
        append.streamId,
        append.firstVersion + i,
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata),
      );
    });
    return pool.query(statement(append.events.length), params);
  };
}

/** `writers` concurrent loops take the next append from a shared queue until it is empty. */
async function drive(appends: readonly BenchAppend[], writers: number, call: Call, totals: SideTotals): Promise<void> {
  let next = 0;
  let failed = false;
  const writer = async () => {
    while (!failed && !interrupted) {
      const append = appends[next++];
      if (!append) return;
      const started = performance.now();
      try {
        await call(append);
      } catch (error) {
        failed = true;
        throw error;
      }
      totals.latenciesMs.push(performance.now() - started);
      totals.events += append.events.length;
      totals.calls++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, writer));
  totals.elapsedMs += performance.now() - started;
  if (interrupted) throw new Error('interrupted');
}

async function resetTables(pool: Pool): Promise<void> {
  await pool.query(`TRUNCATE cx_events, ${BASELINE_TABLE} RESTART IDENTITY`);
  // Starts each scenario without dirty buffers left by the previous one (PGlite may refuse: no matter).
  await pool.query('CHECKPOINT').catch(() => undefined);
}

function emptyTotals(): SideTotals {
  return { events: 0, calls: 0, elapsedMs: 0, latenciesMs: [] };
}

async function runScenario(
  pool: Pool,
  calls: Record<Side, Call>,
  options: Options,
  batchSize: number,
  writers: number,
  seed: number,
): Promise<ScenarioResult> {
  const appends = buildWorkload({ events: options.events, batchSize, customers: options.customers, seed });
  const warmup = buildWorkload({
    events: Math.min(options.events, batchSize * Math.max(writers * 20, Math.ceil((0.05 * options.events) / batchSize))),
    batchSize,
    customers: options.customers,
    seed: seed + 1,
    streamPrefix: 'warmup-',
  });

  await resetTables(pool);
  for (const side of ['store', 'baseline'] as const) await drive(warmup, writers, calls[side], emptyTotals());
  await resetTables(pool);

  // Store and baseline take turns over contiguous segments, S B B S S B B S…: both see the
  // same table sizes and, on average, the same moment of the run. A segment keeps every writer
  // busy for a while (MIN_CALLS_PER_WRITER), or its ramp-up and drain would weigh on the figures.
  const totals: Record<Side, SideTotals> = { store: emptyTotals(), baseline: emptyTotals() };
  const fit = Math.floor(appends.length / (writers * MIN_CALLS_PER_WRITER));
  const segments = Math.max(2, Math.min(options.segments, fit - (fit % 2)));
  const perSegment = Math.ceil(appends.length / segments);
  for (let s = 0; s < segments; s++) {
    const segment = appends.slice(s * perSegment, (s + 1) * perSegment);
    const order: Side[] = s % 2 === 0 ? ['store', 'baseline'] : ['baseline', 'store'];
    for (const side of order) await drive(segment, writers, calls[side], totals[side]);
  }

  const counts = await pool.query<{ store: string; baseline: string }>(
    `SELECT (SELECT count(*) FROM cx_events) AS store, (SELECT count(*) FROM ${BASELINE_TABLE}) AS baseline`,
  );
  const { store: stored, baseline: inserted } = counts.rows[0];
  if (Number(stored) !== options.events || Number(inserted) !== options.events) {
    throw new Error(`expected ${options.events} rows on each side, found store ${stored}, baseline ${inserted}`);
  }

  const store = summarize(totals.store);
  const baseline = summarize(totals.baseline);
  return { batchSize, writers, store, baseline, ratio: store.eventsPerSecond / baseline.eventsPerSecond };
}

function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The commit measured, and whether the event store's code differed from it. */
function codeVersion(root: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'libs/event-store') !== '';
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in libs/event-store' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

async function serverFacts(pool: Pool): Promise<{ version: string; settings: string }> {
  const version = await pool.query<{ version: string }>('SELECT version()');
  const settings = await pool.query<{ name: string; setting: string; unit: string | null }>(
    `SELECT name, setting, unit FROM pg_settings
      WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers', 'autovacuum', 'max_wal_size')
      ORDER BY name`,
  );
  const shown = settings.rows.map((s) => {
    if (s.unit === '8kB') return `${s.name} ${(Number(s.setting) * 8) / 1024} MB`;
    return `${s.name} ${s.setting}${s.unit ? ` ${s.unit}` : ''}`;
  });
  return { version: version.rows[0].version.replace(/ on .*? compiled by .*$/, '').replace(/,.*$/, ''), settings: shown.join(', ') };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  let options: Options;
  try {
    options = parseOptions();
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const args = process.argv.slice(2);
  const backend = options.databaseUrl ? 'postgres' : 'embedded';
  const command = `${options.databaseUrl ? `DATABASE_URL=${redactUrl(options.databaseUrl)} ` : ''}npm run bench:append${args.length ? ` -- ${args.join(' ')}` : ''}`;
  const cores = cpus();
  const machine = `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()}, Node ${process.version}`;
  const maxWriters = Math.max(...options.writers);

  console.log(`command: ${command}`);
  console.log(`  (node ${process.argv.slice(1).join(' ')})`);
  const code = codeVersion(repositoryRoot());
  console.log(`machine: ${machine}`);
  console.log(`code: ${code}`);
  if (backend === 'embedded') {
    console.log(
      `DATABASE_URL is not set: running against embedded in-memory PGlite with ${options.events.toLocaleString('en-US')} events per scenario.\n` +
        '  PGlite is one session: the pool has one connection, so concurrent writers take turns.\n' +
        `  The ${TARGET_RATIO} target applies to a real PostgreSQL server; set DATABASE_URL for that figure.`,
    );
  }

  const { db, name, drop } = await openBenchDatabase(options, maxWriters + 1);
  const store = new PostgresEventStore({ pool: db.pool, notifications: 'local', adapterName: db.kind });
  let closed = false;
  const cleanup = async () => {
    if (closed) return;
    closed = true;
    await store.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    await drop();
  };
  process.once('SIGINT', () => {
    interrupted = true;
    console.error('\ninterrupted: stopping writers and dropping the bench database (Ctrl-C again to quit at once)');
    process.once('SIGINT', () => process.exit(130));
  });

  const results: ScenarioResult[] = [];
  let eventBytes = 0;
  let facts = { version: '', settings: '' };
  try {
    facts = await serverFacts(db.pool);
    await createBaselineTable(db.pool);
    eventBytes = meanEventBytes(buildWorkload({ events: 2_000, batchSize: 10, customers: options.customers, seed: 1 }));
    const poolSize = backend === 'embedded' ? 1 : maxWriters + 1;
    console.log(`database: ${facts.version} (${backend === 'postgres' ? `fresh database ${name} on ${redactUrl(options.databaseUrl ?? '')}` : db.location}); ${facts.settings}`);
    console.log(
      `workload: ${options.events.toLocaleString('en-US')} events per scenario and side, ~${Math.round(eventBytes)} bytes of JSON each (data + metadata), ` +
        `${options.customers.toLocaleString('en-US')} customer streams, expectedVersion 'any', pool of ${poolSize} connection(s), up to ${options.segments} alternating segments\n`,
    );

    let seed = 1_000;
    for (const batchSize of options.batches) {
      for (const writers of options.writers) {
        const began = performance.now();
        process.stdout.write(`batch ${String(batchSize).padStart(3)} × ${writers} writer(s) … `);
        const result = await runScenario(db.pool, { store: (a) => store.append(a.streamId, a.events, 'any'), baseline: baselineInsert(db.pool) }, options, batchSize, writers, (seed += 10));
        results.push(result);
        console.log(
          `store ${Math.round(result.store.eventsPerSecond).toLocaleString('en-US')} ev/s, limit ${Math.round(result.baseline.eventsPerSecond).toLocaleString('en-US')} ev/s, ratio ${result.ratio.toFixed(2)} (${duration(performance.now() - began)})`,
        );
      }
    }
  } finally {
    await cleanup();
  }

  const elapsed = duration(Date.now() - startedAt.getTime());
  const table = renderTable(results);
  const targeted = results.filter((r) => r.batchSize === TARGET_BATCH);
  const targetLines = targeted.map(
    (r) => `- batch ${r.batchSize}, ${r.writers} writer${r.writers === 1 ? '' : 's'}: ${r.ratio.toFixed(2)} of the limit: **${verdict(r)}**`,
  );
  const overall = targeted.length === 0 ? 'not measured' : targeted.every((r) => verdict(r) === 'PASS') ? 'PASS' : 'FAIL';

  console.log(`\n${table}\n`);
  console.log(`target: at least ${TARGET_RATIO} of the limit at batch ${TARGET_BATCH}${backend === 'embedded' ? ' (applies to a real server; this is PGlite)' : ''}: ${overall}`);
  for (const line of targetLines) console.log(line.replace(/\*\*/g, ''));
  console.log(`\nthe run took ${elapsed}`);

  if (!options.writeDocs) {
    console.log('docs/benchmarks.md not updated (only a full standard run against a real server writes it by default; pass --docs to force)');
    return;
  }
  const docsPath = join(repositoryRoot(), 'docs', 'benchmarks.md');
  const where =
    backend === 'postgres'
      ? `${facts.version} on the same host, over loopback TCP (${facts.settings}); a fresh database created for the run and dropped after it`
      : `embedded in-memory PGlite (${facts.version}), one connection: writers take turns; the target does not apply`;
  await writeDocsSection(
    docsPath,
    'append',
    `
## Event store append (\`npm run bench:append\`)

- **Command:** \`${command}\`
- **Date:** ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}; the run took ${elapsed}.
- **Code:** ${code}.
- **Machine:** ${machine}.
- **Database:** ${where}.
- **Workload:** per scenario and per side, ${options.events.toLocaleString('en-US')} events of ~${Math.round(eventBytes)} bytes of JSON (data + metadata: a moment of truth with kind, channel, touchpoint, wait seconds, agent, area, amount and three base64 "encrypted" PII fields), appended to streams \`customer-<n>\` over ${options.customers.toLocaleString('en-US')} customers picked uniformly, expected version \`any\`; the pool has at least as many connections as writers.
- **Store:** \`PostgresEventStore.append\`: one call is one latency sample.
- **Limit (baseline):** the same rows, one plain multi-row \`INSERT … VALUES\` per batch in its own (autocommit) transaction, into a bare table created \`LIKE cx_events INCLUDING ALL\` (same columns, defaults, identity, constraints and indexes); one \`INSERT\` is one latency sample.
- **Method:** per scenario, both tables are truncated (\`RESTART IDENTITY\`) and checkpointed, both sides warm up, the tables are truncated again, then store and limit take turns over up to ${options.segments} segments (S L L S …; fewer when a segment would give each writer under ${MIN_CALLS_PER_WRITER} calls) so both see the same table sizes and the same machine noise. Events/s = events ÷ summed segment wall time.

${table}

**Target** (issue #2): at batch ${TARGET_BATCH}, at least ${TARGET_RATIO} of the limit on a real PostgreSQL server: **${backend === 'embedded' ? 'not assessed (PGlite)' : overall}**.
${targetLines.join('\n')}
`,
  );
  console.log(`wrote the append section of ${docsPath}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
