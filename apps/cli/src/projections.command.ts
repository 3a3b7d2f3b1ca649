import { parseArgs } from 'node:util';
import { type CliIo, CliError, type Command, EXIT, useColour } from './cli-io.js';
import { CxClient } from './client.js';

/** What `GET /v1/projections` answers (the fields this command reads). */
type Rebuild = {
  id: string;
  status: 'requested' | 'running';
  phase: string;
  version: number;
  targetPosition: string | null;
  position: string;
  eventsPerSecond: number | null;
  etaSeconds: number | null;
  startedAt: string | null;
};
type Outcome = { id: string; status: 'done' | 'failed'; version: number; position: string; seconds: number | null; eventsPerSecond: number | null; error?: string };
type State = {
  name: string;
  version: number;
  position: string;
  status: string;
  lagEvents: number;
  lagSeconds: number;
  error?: { message: string; position: string };
  rebuild?: Rebuild;
  lastRebuild?: Outcome;
};
type Requested = { rebuilds: Array<{ projection: string; id: string; status: string }> };

const USAGE = 'projections list|rebuild <name>…|retry <name>';
const HELP = `usage: cx projections list [--json]
       cx projections rebuild <name>… | --all [--no-wait]
       cx projections retry <name>

  list      each read model: version, status, log position, lag (events and seconds), error,
            and its rebuild (running, or how the last one ended)
  rebuild   rebuilds read models blue/green: new tables built from the start of the log while
            the current ones serve, then switched in one step; shows progress (events/s, ETA)
            until the switch. Several names (or --all) are rebuilt in one pass over the log.
            --no-wait returns once the rebuild is requested.
  retry     starts a failed read model again from the event it failed at (after a fix)

  --json           the API's JSON, for machines
  --url URL        the platform (or CX_URL; default http://localhost:3000)
  --api-key KEY    a key with scope read (list) or ops (rebuild, retry) (or CX_API_KEY)
`;

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
        'no-wait': { type: 'boolean', default: false },
        url: { type: 'string' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nusage: cx ${USAGE}`, EXIT.usage);
  }
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A rebuild in a few words, for the table. */
function rebuildCell(state: State): string {
  const r = state.rebuild;
  if (r) {
    if (r.status === 'requested') return `requested (${r.id})`;
    const share = progress(r);
    return `${r.phase}${share === null ? '' : ` ${Math.floor(share * 100)}%`}${r.etaSeconds === null ? '' : `, ETA ${duration(r.etaSeconds)}`}`;
  }
  const last = state.lastRebuild;
  if (!last) return '-';
  return last.status === 'done' ? `done v${last.version} in ${duration(last.seconds)}` : `failed (${last.id})`;
}

const progress = (r: Rebuild): number | null => {
  const target = r.targetPosition === null ? 0 : Number(r.targetPosition);
  return target > 0 ? Math.min(1, Number(r.position) / target) : null;
};

function table(states: readonly State[], colour: boolean): string {
  const paint = (codes: string, text: string) => (colour && codes ? `\u001b[${codes}m${text}\u001b[0m` : text);
  const header = ['NAME', 'VERSION', 'STATUS', 'POSITION', 'LAG EVENTS', 'LAG S', 'REBUILD', 'ERROR'];
  const rows = states.map((s) => [
    s.name,
    String(s.version),
    s.status,
    s.position,
    integer.format(s.lagEvents),
    s.lagSeconds.toFixed(1),
    rebuildCell(s),
    s.error ? `at ${s.error.position}: ${s.error.message}` : '-',
  ]);
  const numeric = new Set([1, 3, 4, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === header.length - 1 ? 0 : r[i].length))));
  const line = (cells: string[], colours: string[] = []) =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
        return paint(colours[i] ?? '', padded);
      })
      .join('  ')
      .trimEnd();
  const statusColour = (status: string) => (status === 'failed' ? '1;31' : status === 'running' ? '32' : '33');
  return [
    line(header, header.map(() => '1')),
    ...rows.map((r, n) => line(r, ['', '', statusColour(states[n].status), '', '', '', '', states[n].error ? '31' : ''])),
  ].join('\n');
}

async function list(client: CxClient, io: CliIo, json: boolean): Promise<number> {
  const answer = await client.get<{ projections: State[] }>('/v1/projections');
  if (json) {
    io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return EXIT.ok;
  }
  io.stdout.write(`${table(answer.projections, useColour(io))}\n`);
  return EXIT.ok;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function progressLine(names: readonly string[], r: Rebuild, width: number | null): string {
  const label = names.join(', ');
  if (r.status === 'requested') return `${label}: waiting for the process that runs ${names.length === 1 ? 'it' : 'them'} to start rebuild ${r.id}`;
  const share = progress(r);
  const figures = [
    r.phase,
    r.targetPosition === null ? undefined : `${integer.format(Number(r.position))}/${integer.format(Number(r.targetPosition))}`,
    r.eventsPerSecond === null ? undefined : `${integer.format(r.eventsPerSecond)} ev/s`,
    r.etaSeconds === null || r.phase !== 'building' ? undefined : `ETA ${duration(r.etaSeconds)}`,
  ].filter((x): x is string => x !== undefined);
  const percent = share === null ? '' : `${String(Math.floor(share * 100)).padStart(3)}%`;
  if (width === null) return `${label}: ${percent ? `${percent.trim()} ` : ''}${figures.join(', ')}`;
  const barWidth = Math.max(10, Math.min(40, width - label.length - 60));
  const filled = Math.round((share ?? 0) * barWidth);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${percent}  ${figures.join('  ')}`;
}

/** Follows the rebuild until every projection switched (or it failed): a bar redrawn on a terminal, a line every few seconds otherwise. */
async function follow(client: CxClient, io: CliIo, requested: Requested['rebuilds']): Promise<number> {
  const names = requested.map((r) => r.projection);
  const ids = new Set(requested.map((r) => r.id));
  const tty = Boolean(io.stdout.isTTY);
  const everyMs = Number(io.env.CX_PROGRESS_INTERVAL_MS ?? '') || (tty ? 250 : 2_000);
  let lastLine = '';
  let lastPrinted = 0;
  let lastPhase = '';
  for (;;) {
    const { projections } = await client.get<{ projections: State[] }>('/v1/projections');
    const mine = projections.filter((s) => names.includes(s.name));
    const ended = mine.filter((s) => !s.rebuild && s.lastRebuild && ids.has(s.lastRebuild.id));
    if (ended.length === mine.length) {
      if (tty && lastLine) io.stdout.write('\r\u001b[2K');
      const failed = ended.filter((s) => s.lastRebuild!.status === 'failed');
      for (const s of ended) {
        const o = s.lastRebuild!;
        if (o.status === 'done') {
          io.stdout.write(
            `${s.name}: rebuilt (v${o.version}) and switched at log position ${o.position} in ${duration(o.seconds)}${o.eventsPerSecond === null ? '' : ` (${integer.format(o.eventsPerSecond)} ev/s)`}\n`,
          );
        }
      }
      if (failed.length > 0) throw new CliError(failed.map((s) => `rebuild ${s.lastRebuild!.id} of ${s.name} failed: ${s.lastRebuild!.error ?? 'no reason given'}`).join('\n'));
      return EXIT.ok;
    }
    const running = mine.find((s) => s.rebuild && ids.has(s.rebuild.id))?.rebuild;
    if (running) {
      const width = tty ? (io.stdout.columns ?? 100) : null;
      const line = progressLine(names, running, width);
      const now = Date.now();
      if (tty) {
        if (line !== lastLine) io.stdout.write(`\r\u001b[2K${line.slice(0, Math.max(20, (io.stdout.columns ?? 100) - 1))}`);
        lastLine = line;
      } else if (line !== lastLine && (running.phase !== lastPhase || now - lastPrinted >= everyMs)) {
        io.stdout.write(`${line}\n`);
        lastLine = line;
        lastPrinted = now;
      }
      lastPhase = running.phase;
    }
    await sleep(tty ? 250 : Math.min(500, everyMs));
  }
}

async function rebuild(client: CxClient, io: CliIo, names: string[], all: boolean, wait: boolean, json: boolean): Promise<number> {
  if (all && names.length > 0) throw new CliError(`give projection names or --all, not both\nusage: cx ${USAGE}`, EXIT.usage);
  if (!all && names.length === 0) throw new CliError(`give the projections to rebuild (cx projections list names them), or --all\nusage: cx ${USAGE}`, EXIT.usage);
  const requested =
    names.length === 1
      ? await client.post<Requested>(`/v1/projections/${encodeURIComponent(names[0])}/rebuild`)
      : await client.post<Requested>('/v1/projections/rebuild', all ? undefined : { projections: names });
  if (json && !wait) {
    io.stdout.write(`${JSON.stringify(requested, null, 2)}\n`);
    return EXIT.ok;
  }
  const list = requested.rebuilds.map((r) => `${r.projection} (rebuild ${r.id})`).join(', ');
  io.stdout.write(`rebuild requested: ${list}\n`);
  if (!wait) return EXIT.ok;
  return follow(client, io, requested.rebuilds);
}

async function retry(client: CxClient, io: CliIo, names: string[]): Promise<number> {
  if (names.length !== 1) throw new CliError(`give one projection to retry\nusage: cx ${USAGE}`, EXIT.usage);
  const answer = await client.post<{ projection: string; status: 'retrying' | 'rebuild-requested' }>(`/v1/projections/${encodeURIComponent(names[0])}/retry`);
  io.stdout.write(
    answer.status === 'retrying'
      ? `${answer.projection}: starting again from the event it failed at (cx projections list shows how it goes)\n`
      : `${answer.projection}: its new version's rebuild is requested again (cx projections list shows how it goes)\n`,
  );
  return EXIT.ok;
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args);
  const [action, ...names] = positionals;
  if (values.help || action === 'help') {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  const client = new CxClient({ url: values.url, apiKey: values['api-key'], env: io.env });
  switch (action) {
    case 'list':
    case 'ls':
      if (names.length > 0) throw new CliError(`list takes no names\nusage: cx ${USAGE}`, EXIT.usage);
      return list(client, io, values.json);
    case 'rebuild':
      return rebuild(client, io, names, values.all, !values['no-wait'], values.json);
    case 'retry':
      return retry(client, io, names);
    default:
      throw new CliError(`${action === undefined ? 'give an action' : `unknown action ${JSON.stringify(action)}`}: list, rebuild or retry\nusage: cx ${USAGE}`, EXIT.usage);
  }
}

export const projectionsCommand: Command = {
  name: 'projections',
  summary: 'read models: list (status, lag), rebuild blue/green with progress, retry a failed one',
  usage: USAGE,
  run,
};
