import { generateJourneys, startTestApp, type TestApp, testBackend } from '@cx/testing';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type CliIo, EXIT } from './cli-io.js';
import { main } from './main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The ops key can also read: `rebuild` follows the progress in GET /v1/projections (scope read). */
const KEYS = { ingest: 'cli-projections-ingest-0123456789', read: 'cli-projections-read-0123456789', ops: 'cli-projections-ops-0123456789' };
const NAMES = ['changes', 'complaints', 'customer360', 'customerValue', 'journey', 'retentionEpisodes', 'satisfaction'];
const ESC = '\u001b[';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let app: TestApp;

/** Runs `cx …` in-process with a fake terminal (or pipe). */
async function cx(args: string[], options: { tty?: boolean; key?: string } = {}) {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from([]) as Readable & { isTTY?: boolean };
  const io: CliIo = {
    stdout: { write: (chunk: string) => (stdout += chunk), isTTY: options.tty ?? false, columns: 120 },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: options.tty ?? false },
    stdin,
    env: { CX_URL: app.url, CX_API_KEY: options.key ?? KEYS.ops, CX_PROGRESS_INTERVAL_MS: '50' },
  };
  const code = await main(args, io);
  return { code, stdout, stderr, lines: stdout.split('\n').filter((line) => line !== '') };
}

type State = { name: string; status: string; position: string; rebuild?: unknown; lastRebuild?: { id: string; status: string } };
const states = async () => (JSON.parse((await cx(['projections', 'list', '--json'], { key: KEYS.read })).stdout) as { projections: State[] }).projections;

describe(`cx projections against a running platform on ${testBackend}`, () => {
  beforeAll(async () => {
    app = await startTestApp({ CX_API_KEYS: `${KEYS.ingest}:ingest,${KEYS.read}:read,${KEYS.ops}:read+ops`, CX_TIER_INTERVAL_MINUTES: '0', CX_RETENTION_ALERT_INTERVAL_SECONDS: '0' });
    const events = generateJourneys({ customers: 40, days: 30, seed: 9, start: new Date('2025-02-01T00:00:00Z') });
    let head = '0';
    for (let i = 0; i < events.length; i += 500) {
      const reply = await fetch(`${app.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${KEYS.ingest}` },
        body: JSON.stringify(events.slice(i, i + 500)),
      });
      head = ((await reply.json()) as { position: string }).position;
    }
    const deadline = Date.now() + 30_000;
    while ((await states()).some((s) => BigInt(s.position) < BigInt(head))) {
      if (Date.now() > deadline) throw new Error('the projections did not catch up');
      await sleep(50);
    }
  }, 90_000);

  afterAll(async () => {
    await app?.close();
  });

  it('lists the projections as a plain table when piped, as JSON with --json, coloured on a terminal', async () => {
    const { code, lines, stdout, stderr } = await cx(['projections', 'list'], { key: KEYS.read });
    expect({ code, stderr }).toEqual({ code: EXIT.ok, stderr: '' });
    expect(stdout).not.toContain(ESC);
    expect(lines[0].split(/\s{2,}/)).toEqual(['NAME', 'VERSION', 'STATUS', 'POSITION', 'LAG EVENTS', 'LAG S', 'REBUILD', 'ERROR']);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(NAMES);
    for (const line of lines.slice(1)) expect(line).toMatch(/^\S+\s+\d+\s+running\s+\d+\s+0\s+\d+\.\d\s+-\s+-$/);

    const json = await cx(['projections', 'list', '--json'], { key: KEYS.read });
    expect(json.code).toBe(EXIT.ok);
    expect((JSON.parse(json.stdout) as { projections: State[] }).projections.map((p) => p.name)).toEqual(NAMES);

    const coloured = await cx(['projections', 'list'], { tty: true, key: KEYS.read });
    expect(coloured.stdout).toContain(`${ESC}32mrunning`);
  });

  it('rebuilds a projection, printing progress lines when piped, until it switched', async () => {
    const { code, lines, stderr } = await cx(['projections', 'rebuild', 'journey']);
    expect({ code, stderr }).toEqual({ code: EXIT.ok, stderr: '' });
    expect(lines[0]).toMatch(/^rebuild requested: journey \(rebuild \d+\)$/);
    expect(lines.at(-1)).toMatch(/^journey: rebuilt \(v2\) and switched at log position \d+ in \d+ s( \([\d,]+ ev\/s\))?$/);
    for (const line of lines.slice(1, -1)) expect(line).toMatch(/^journey: (waiting for|(\d+% )?(building|indexing|catching-up|switching))/);
    const listed = await cx(['projections', 'list'], { key: KEYS.read });
    expect(listed.lines.find((line) => line.startsWith('journey'))).toMatch(/done v2 in \d+ s/);
  });

  it('rebuilds every projection in one pass with --all, redrawing the bar in place on a terminal', async () => {
    const { code, stdout, lines, stderr } = await cx(['projections', 'rebuild', '--all'], { tty: true });
    expect({ code, stderr }).toEqual({ code: EXIT.ok, stderr: '' });
    // The bar is redrawn in place (after \r and a line clear) and cleared at the end: no line ends with one.
    const shown = lines.map((line) => line.split('\r\u001b[2K').at(-1)!);
    for (const line of shown) expect(line).not.toMatch(/\[[#.]+\]/);
    expect(stdout.includes('\r\u001b[2K')).toBe(stdout.includes('['));
    const switched = shown.filter((line) => line.includes('switched'));
    expect(switched.map((line) => line.split(':')[0]).sort()).toEqual(NAMES);
  });

  it('returns at once with --no-wait', async () => {
    const { code, lines } = await cx(['projections', 'rebuild', 'complaints', '--no-wait']);
    expect(code).toBe(EXIT.ok);
    expect(lines).toEqual([expect.stringMatching(/^rebuild requested: complaints \(rebuild \d+\)$/)]);
    const deadline = Date.now() + 30_000;
    while ((await states()).find((s) => s.name === 'complaints')?.rebuild) {
      if (Date.now() > deadline) throw new Error('the rebuild did not end');
      await sleep(50);
    }
  });

  it('says why and exits non-zero for an unknown projection, a missing name, a wrong scope, nothing to retry', async () => {
    const unknown = await cx(['projections', 'rebuild', 'nope']);
    expect(unknown).toMatchObject({ code: EXIT.failed, stdout: '' });
    expect(unknown.stderr).toBe(`cx: 404: name: unknown projection "nope"; known: customer360, satisfaction, changes, complaints, journey, customerValue, retentionEpisodes\n`);

    const missing = await cx(['projections', 'rebuild']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain('give the projections to rebuild');

    const scope = await cx(['projections', 'rebuild', 'journey'], { key: KEYS.read });
    expect(scope.code).toBe(EXIT.failed);
    expect(scope.stderr).toMatch(/^cx: 403: .*\(set --api-key or CX_API_KEY\)\n$/);

    const retry = await cx(['projections', 'retry', 'journey']);
    expect(retry).toMatchObject({ code: EXIT.failed, stderr: 'cx: 409: name: projection journey is running, not failed: nothing to retry\n' });

    const action = await cx(['projections', 'frobnicate']);
    expect(action.code).toBe(EXIT.usage);
    expect(action.stderr).toContain('unknown action "frobnicate"');
  });

  it('runs as the npm bin (node bin/cx.mjs projections list)', async () => {
    const child = spawn(process.execPath, [resolve(root, 'bin/cx.mjs'), 'projections', 'list', '--url', app.url, '--api-key', KEYS.read], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+STATUS/);
    expect(stdout).toContain('retentionEpisodes');
  });
});
