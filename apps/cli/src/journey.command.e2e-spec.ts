import { startTestApp, type TestApp, testBackend } from '@cx/testing';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type CliIo, EXIT } from './cli-io.js';
import { main } from './main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const INGEST_KEY = 'ingest-key-cli-journey-0123456789';
const READ_KEY = 'read-key-cli-journey-0123456789';
const run = randomUUID().slice(0, 8);
const ANA = `cust-${run}-ana`;
const CMP = `CMP-${run}`;
const SLA = `complaint ${CMP} unresolved past its high SLA`;
const ESC = '\u001b[';

type Json = Record<string, unknown>;
let app: TestApp;
let n = 0;
const ce = (type: string, time: string, data: Json): Json => ({ specversion: '1.0', id: `cli-${run}-${++n}`, source: 'urn:cx:cli', type, subject: ANA, time, data });
const step = (name: string, time: string, data: Json = {}) => ce(`cx.complaint.${name}`, time, { complaintId: CMP, ...data });

async function ingest(...events: Json[]): Promise<string> {
  const response = await fetch(`${app.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${INGEST_KEY}` },
    body: JSON.stringify(events),
  });
  const body = (await response.json()) as { position: string; results: Array<{ status: string }> };
  expect(body.results.map((r) => r.status)).toEqual(events.map(() => 'accepted'));
  return body.position;
}

/** Runs `cx …` in-process with a fake terminal (or pipe) and what stdin will say. */
async function cx(args: string[], options: { tty?: boolean; stdin?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from(options.stdin ? [options.stdin.map((line) => `${line}\n`).join('')] : []) as Readable & { isTTY?: boolean };
  stdin.isTTY = false;
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk), isTTY: options.tty ?? false },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: options.tty ?? false },
    stdin,
    env: options.env ?? {},
  };
  const code = await main(args, io);
  return { code, stdout, stderr, lines: stdout.split('\n').filter((line) => line !== '') };
}
const journey = (...args: string[]) => ['journey', ANA, ...args, '--url', app.url, '--api-key', READ_KEY];

describe(`cx journey against a running platform on ${testBackend}`, () => {
  let last: string;

  beforeAll(async () => {
    app = await startTestApp({ CX_API_KEYS: `${INGEST_KEY}:ingest,${READ_KEY}:read`, CX_TIER_INTERVAL_MINUTES: '0', CX_RETENTION_ALERT_INTERVAL_SECONDS: '0' });
    await ingest(ce('cx.customer.registered', '2025-03-03T08:15:00Z', { name: 'Ana García', email: 'ana@example.com', tier: 'A' }));
    await ingest(ce('cx.moment.recorded', '2025-03-14T10:22:05Z', { kind: 'billing', channel: 'phone', outcome: 'negative', waitSeconds: 540 }));
    await ingest(step('filed', '2025-03-14T10:31:40Z', { category: 'billing', channel: 'phone', severity: 'high' }));
    await ingest(ce('cx.feedback.submitted', '2025-03-14T10:40:12Z', { nps: 3, csat: 2, comment: 'Nadie me explicó la espera.' }));
    await ingest(step('acknowledged', '2025-03-14T11:05:00Z'), step('routed', '2025-03-14T11:06:30Z', { area: 'billing' }));
    await ingest(step('resolved', '2025-03-15T16:20:00Z', { resolution: 'Refunded.' }));
    last = await ingest(ce('cx.customer.updated', '2025-03-20T09:00:00Z', { tier: 'B', locale: 'es-ES' }));
  }, 90_000);

  afterAll(async () => {
    await app?.close();
  });

  it('prints one plain line per event with what it changed, then the state, when not on a terminal', async () => {
    const { code, lines, stdout, stderr } = await cx(journey('--as-of', last));
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(stdout).not.toContain(ESC);
    const positions = (JSON.parse((await cx(journey('--as-of', last, '--json'))).stdout) as { events: Array<{ position: string }> }).events.map((e) => e.position);
    const width = Math.max(...positions.map((p) => p.length));
    const at = (i: number) => `#${positions[i]}`.padStart(width + 1);
    expect(lines).toEqual([
      `Journey of ${ANA} (Ana García) as of log position ${last}: 10 events (times UTC)`,
      `${at(0)}  2025-03-03 08:15:00  -          registered Ana García · ana@example.com`,
      `${at(1)}  2025-03-03 08:15:00  -          tier changed · set on registration  » tier C→A`,
      `${at(2)}  2025-03-14 10:22:05  phone      moment billing · negative · waited 540 s  » at risk: negative phone moment`,
      `${at(3)}  2025-03-14 10:31:40  phone      complaint ${CMP} filed · billing · high  » complaint ${CMP} filed; at risk: negative phone moment, ${SLA}`,
      `${at(4)}  2025-03-14 10:40:12  -          feedback · NPS 3 · CSAT 2 · "Nadie me explicó la espera."  » at risk: detractor, negative phone moment, ${SLA}`,
      `${at(5)}  2025-03-14 11:05:00  -          complaint ${CMP} acknowledged  » complaint ${CMP} filed → acknowledged`,
      `${at(6)}  2025-03-14 11:06:30  -          complaint ${CMP} routed · to billing  » complaint ${CMP} acknowledged → routed`,
      `${at(7)}  2025-03-15 16:20:00  -          complaint ${CMP} resolved · "Refunded."  » complaint ${CMP} routed → resolved; at risk: detractor, negative phone moment`,
      `${at(8)}  2025-03-20 09:00:00  -          profile updated: locale`,
      `${at(9)}  2025-03-20 09:00:00  -          tier changed · set on profile update  » tier A→B`,
      expect.stringMatching(new RegExp(`^State as of \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(log position ${last}, 10 events\\):$`)),
      '  tier B since 2025-03-20 · preferred channel phone · last contact 2025-03-14 10:40:12',
      '  satisfaction: NPS 3 (1 answer) · CSAT 2 (1 answer) · CES - (0 answers)',
      `  complaints: 1 filed, open: ${CMP} resolved at billing (high, due 2025-03-17)`,
      '  value: - over 0 payments',
      '  at risk: detractor, negative phone moment',
    ]);
  });

  it('replays as of an earlier position, and as of a time before everything', async () => {
    const json = JSON.parse((await cx(journey('--json'))).stdout) as { events: Array<{ position: string; storedType: string }> };
    const filed = json.events.find((e) => e.storedType === 'complaint.filed.v1')!.position;
    const { code, lines } = await cx(journey('--as-of', filed));
    expect(code).toBe(EXIT.ok);
    expect(lines[0]).toBe(`Journey of ${ANA} (Ana García) as of log position ${filed}: 4 events (times UTC)`);
    expect(lines.slice(-5)).toEqual([
      '  tier A since 2025-03-03 · preferred channel phone · last contact 2025-03-14 10:31:40',
      '  satisfaction: NPS - (0 answers) · CSAT - (0 answers) · CES - (0 answers)',
      `  complaints: 1 filed, open: ${CMP} filed (high, due 2025-03-17, past SLA)`,
      '  value: - over 0 payments',
      `  at risk: negative phone moment, ${SLA}`,
    ]);

    const before = await cx(journey('--as-of', '2020-01-01'));
    expect(before.code).toBe(EXIT.ok);
    expect(before.lines.slice(0, 3)).toEqual([
      `Journey of ${ANA} as of 2020-01-01T00:00:00.000Z: 0 events (times UTC)`,
      '  (nothing known about this customer then)',
      'State as of 2020-01-01T00:00:00.000Z (log position 0, 0 events):',
    ]);
    expect(before.lines.at(-1)).toBe('  not at risk');
  });

  it('colours the output on a terminal, never with NO_COLOR', async () => {
    const tty = await cx(journey('--as-of', last), { tty: true });
    expect(tty.code).toBe(EXIT.ok);
    expect(tty.stdout).toContain(`${ESC}1;31mat risk: detractor, negative phone moment${ESC}0m`);
    expect(tty.stdout).toContain(`${ESC}1;33mtier A→B${ESC}0m`);
    expect(tty.stdout).toContain(`${ESC}31mnegative${ESC}0m`);
    // Without the escapes it is the plain output, line for line.
    const plain = await cx(journey('--as-of', last));
    expect(tty.stdout.replace(/\u001b\[[\d;]*m/g, '')).toBe(plain.stdout);
    expect((await cx(journey('--as-of', last), { tty: true, env: { NO_COLOR: '1' } })).stdout).toBe(plain.stdout);
  });

  it('--json prints the API answer, every page merged, for machines', async () => {
    const { code, stdout } = await cx(journey('--as-of', last, '--json'), { tty: true });
    expect(code).toBe(EXIT.ok);
    const body = JSON.parse(stdout) as { customerId: string; asOf: Json; events: Array<{ changes: unknown[] }>; nextCursor: null; state: Json };
    expect(body).toMatchObject({ customerId: ANA, asOf: { position: last }, nextCursor: null, state: { tier: 'B', events: 10, atRisk: true } });
    expect(body.events).toHaveLength(10);
    expect(body.events[1].changes).toEqual([{ kind: 'tier', from: 'C', to: 'A' }]);
  });

  it('--step prints one event per line of stdin, and q stops', async () => {
    const stopped = await cx(journey('--as-of', last, '--step'), { stdin: ['', '', 'q'] });
    expect(stopped.code).toBe(EXIT.ok);
    expect(stopped.lines).toHaveLength(1 + 3 + 1);
    expect(stopped.lines[3]).toContain('moment billing · negative');
    expect(stopped.lines[4]).toBe('(stopped after 3 of 10 events)');
    expect(stopped.stderr).toBe('');

    // stdin ends after one step: the rest is printed without waiting, then the state.
    const ended = await cx(journey('--as-of', last, '--step'), { stdin: [''] });
    expect(ended.code).toBe(EXIT.ok);
    expect(ended.stdout).toBe((await cx(journey('--as-of', last))).stdout);
  });

  it('fails with a message and a non-zero exit: unknown customer, bad --as-of, usage, unreachable platform', async () => {
    const unknown = await cx(['journey', `cust-${run}-nobody`, '--url', app.url, '--api-key', READ_KEY]);
    expect(unknown).toMatchObject({ code: EXIT.failed, stdout: '' });
    expect(unknown.stderr).toMatch(/^cx: 404: id: no customer cust-.*-nobody in the event log/);

    const badAsOf = await cx(journey('--as-of', 'last tuesday'));
    expect(badAsOf).toMatchObject({ code: EXIT.usage, stdout: '' });
    expect(badAsOf.stderr).toBe('cx: --as-of "last tuesday" is neither a log position (digits) nor a time (2025-03-14T10:22:05Z, 2025-03-14)\n');
    // Well-formed but not a real day: the platform says no, naming asOf.
    const notADay = await cx(journey('--as-of', '2025-02-30'));
    expect(notADay.code).toBe(EXIT.failed);
    expect(notADay.stderr).toMatch(/^cx: 400: asOf: must be a log position/);

    expect((await cx(['journey', '--url', app.url])).code).toBe(EXIT.usage);
    expect((await cx(['journey', 'a', 'b'])).code).toBe(EXIT.usage);
    const unknownFlag = await cx(['journey', ANA, '--colour']);
    expect(unknownFlag.code).toBe(EXIT.usage);
    expect(unknownFlag.stderr).toContain("Unknown option '--colour'");

    const unreachable = await cx(['journey', ANA, '--url', 'http://127.0.0.1:9', '--api-key', READ_KEY]);
    expect(unreachable).toMatchObject({ code: EXIT.unreachable, stdout: '' });
    expect(unreachable.stderr).toContain('cannot reach the platform at http://127.0.0.1:9');

    const forbidden = await cx(['journey', ANA, '--url', app.url, '--api-key', INGEST_KEY]);
    expect(forbidden.code).toBe(EXIT.failed);
    expect(forbidden.stderr).toContain('403');
  });

  it('runs as the real bin: node bin/cx.mjs, plain output into a pipe, exit codes', async () => {
    const bin = async (args: string[]) => {
      const child = spawn(process.execPath, [resolve(root, 'bin/cx.mjs'), ...args], {
        cwd: root,
        env: { ...process.env, CX_URL: app.url, CX_API_KEY: READ_KEY, NO_COLOR: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const [code] = await once(child, 'exit');
      return { code: code as number, stdout, stderr };
    };
    const ok = await bin(['journey', ANA, '--as-of', last]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe((await cx(journey('--as-of', last))).stdout);
    const missing = await bin(['journey', `cust-${run}-nobody`]);
    expect(missing.code).toBe(EXIT.failed);
    expect(missing.stderr).toContain('cx: 404');
  }, 30_000);
});
