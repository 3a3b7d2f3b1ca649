import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type CliIo, CliError, type Command, EXIT, useColour } from './cli-io.js';
import { CxClient } from './client.js';

/** What `GET /v1/customers/{id}/journey?asOf=…` answers (the fields this command reads). */
type Change =
  | { kind: 'tier'; from: string; to: string }
  | { kind: 'complaint'; complaintId: string; from: string | null; to: string }
  | { kind: 'risk'; from: string[]; to: string[] };
type ReplayedEvent = { position: string; storedType: string; time: string; recordedAt: string; data: Record<string, unknown>; changes: Change[] };
type Measure = { latest: number | null; answers: number };
type State = {
  profile: { name: string | null };
  tier: string;
  tierChangedAt: string | null;
  preferredChannel: string | null;
  lastContactAt: string | null;
  satisfaction: { nps: Measure; csat: Measure; ces: Measure };
  complaintsFiled: number;
  openComplaints: { count: number; items: Array<{ complaintId: string; stage: string; severity: string; area: string | null; dueAt: string | null; pastSla: boolean }> };
  value: { payments: number; byCurrency: Record<string, number> };
  atRisk: boolean;
  riskReasons: string[];
  asOf: string;
  position: string;
  events: number;
};
type ReplayPage = { customerId: string; asOf: { position?: string; time?: string }; events: ReplayedEvent[]; nextCursor: string | null; state: State };

const USAGE = 'journey <customerId> [--as-of T|POSITION] [--step] [--json]';
const HELP = `usage: cx ${USAGE} [--url URL] [--api-key KEY]

Prints a customer's journey replayed from the event log: one line per event (log position,
business time in UTC, channel, what happened, and what it changed: tier, complaint stage,
at-risk), then the customer's state as of the end.

  --as-of T|POSITION  what the platform knew at a time (2025-03-14T10:22:05Z, 2025-03-14) or at a
                      log position (digits); default: now
  --step              one event at a time: Enter shows the next, q quits (without a terminal,
                      one line of stdin per event; when stdin ends, the rest is printed)
  --json              the API's JSON (every page merged), for machines
  --url URL           the platform (or CX_URL; default http://localhost:3000)
  --api-key KEY       a key with scope read (or CX_API_KEY)
`;
const PAGE = 1000;
const POSITION = /^\d{1,19}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

type Paint = (codes: string, text: string) => string;

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        'as-of': { type: 'string' },
        step: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        url: { type: 'string' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nusage: cx ${USAGE}`, EXIT.usage);
  }
}

/** Every page of the replay as of one fixed point, merged: the state is the same on each page. */
async function fetchReplay(client: CxClient, customerId: string, asOf: string): Promise<ReplayPage> {
  const base = `/v1/customers/${encodeURIComponent(customerId)}/journey?asOf=${encodeURIComponent(asOf)}&limit=${PAGE}`;
  const first = await client.get<ReplayPage>(base);
  const events = [...first.events];
  for (let cursor = first.nextCursor; cursor; ) {
    const page = await client.get<ReplayPage>(`${base}&cursor=${encodeURIComponent(cursor)}`);
    events.push(...page.events);
    cursor = page.nextCursor;
  }
  return { ...first, events, nextCursor: null };
}

const clock = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '') : '-');
const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '-');
const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);
const quote = (value: unknown) => {
  const s = text(value);
  return s === undefined ? undefined : `"${s.length > 60 ? `${s.slice(0, 59)}…` : s}"`;
};

/** What happened, in a few words: kind or complaint step, scores, outcome. */
function describe(event: ReplayedEvent, paint: Paint): string {
  const d = event.data;
  const parts = (...items: Array<string | undefined | false>) => items.filter((x): x is string => typeof x === 'string' && x !== '').join(' · ');
  const outcome = (o: unknown) => (o === 'negative' ? paint('31', 'negative') : o === 'positive' ? paint('32', 'positive') : text(o));
  const [stream, step] = event.storedType.replace(/\.v\d+$/, '').split('.');
  switch (stream) {
    case 'customer':
      if (step === 'registered') return parts(`registered ${text(d.name) ?? ''}`.trim(), text(d.email), d.tier === undefined ? undefined : `tier ${text(d.tier)}`);
      if (step === 'updated') {
        const fields = Object.keys(d).filter((k) => !['customerId', 'updatedAt'].includes(k));
        return `profile updated: ${fields.join(', ')}`;
      }
      if (step === 'tier-changed') return parts('tier changed', text(d.reason));
      break;
    case 'moment':
      return parts(
        `moment ${text(d.kind) ?? '?'}`,
        outcome(d.outcome),
        d.waitSeconds === undefined ? undefined : `waited ${text(d.waitSeconds)} s${d.expectedWaitSeconds === undefined ? '' : ` (told ${text(d.expectedWaitSeconds)} s)`}`,
        d.amount === undefined ? undefined : `${Number(d.amount).toFixed(2)} ${text(d.currency) ?? ''}`.trim(),
      );
    case 'feedback': {
      const score = (name: string, value: unknown, bad: (n: number) => boolean) =>
        typeof value === 'number' ? paint(bad(value) ? '31' : '', `${name} ${value}`) : undefined;
      return parts(
        'feedback',
        score('NPS', d.nps, (n) => n <= 6),
        score('CSAT', d.csat, (n) => n <= 2),
        score('CES', d.ces, (n) => n >= 5),
        quote(d.comment),
      );
    }
    case 'complaint':
      return parts(
        `complaint ${text(d.complaintId) ?? '?'} ${step}`,
        step === 'filed' ? text(d.category) : undefined,
        step === 'filed' ? text(d.severity) : undefined,
        step === 'routed' ? `to ${text(d.area) ?? '?'}` : undefined,
        step === 'resolved' ? quote(d.resolution) : undefined,
        step === 'reopened' ? quote(d.reason) : undefined,
      );
    case 'retention':
      return parts(`retention alert (episode ${text(d.episode) ?? '?'})`, Array.isArray(d.reasons) ? d.reasons.join(', ') : undefined);
  }
  return event.storedType;
}

function describeChange(change: Change, paint: Paint): string {
  switch (change.kind) {
    case 'tier':
      return paint('1;33', `tier ${change.from}→${change.to}`);
    case 'complaint':
      return paint('33', change.from === null ? `complaint ${change.complaintId} filed` : `complaint ${change.complaintId} ${change.from} → ${change.to}`);
    case 'risk':
      return change.to.length > 0 ? paint('1;31', `at risk: ${change.to.join(', ')}`) : paint('32', 'no longer at risk');
  }
}

function eventLine(event: ReplayedEvent, widths: { position: number }, paint: Paint): string {
  const channel = (text(event.data.channel) ?? '-').padEnd(9);
  const changes = event.changes.map((c) => describeChange(c, paint)).join('; ');
  return [
    paint('2', `#${event.position}`.padStart(widths.position + 1)),
    paint('2', clock(event.time)),
    paint('36', channel),
    describe(event, paint) + (changes ? `  » ${changes}` : ''),
  ].join('  ');
}

function stateLines(state: State, paint: Paint): string[] {
  const measure = (name: string, m: Measure) => `${name} ${m.latest ?? '-'} (${m.answers} answer${m.answers === 1 ? '' : 's'})`;
  const open = state.openComplaints.items.map(
    (c) => `${c.complaintId} ${c.stage}${c.area ? ` at ${c.area}` : ''} (${c.severity}, due ${day(c.dueAt)}${c.pastSla ? paint('31', ', past SLA') : ''})`,
  );
  const value = Object.entries(state.value.byCurrency).map(([currency, amount]) => `${amount.toFixed(2)} ${currency}`);
  return [
    paint('1', `State as of ${state.asOf} (log position ${state.position}, ${state.events} event${state.events === 1 ? '' : 's'}):`),
    `  tier ${paint('1', state.tier)}${state.tierChangedAt ? ` since ${day(state.tierChangedAt)}` : ''} · preferred channel ${state.preferredChannel ?? '-'} · last contact ${clock(state.lastContactAt)}`,
    `  satisfaction: ${measure('NPS', state.satisfaction.nps)} · ${measure('CSAT', state.satisfaction.csat)} · ${measure('CES', state.satisfaction.ces)}`,
    `  complaints: ${state.complaintsFiled} filed, ${state.openComplaints.count === 0 ? 'none open' : `open: ${open.join('; ')}`}`,
    `  value: ${value.length > 0 ? value.join(' + ') : '-'} over ${state.value.payments} payment${state.value.payments === 1 ? '' : 's'}`,
    state.atRisk ? `  ${paint('1;31', `at risk: ${state.riskReasons.join(', ')}`)}` : `  ${paint('32', 'not at risk')}`,
  ];
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new CliError(`give one customer id\nusage: cx ${USAGE}`, EXIT.usage);
  const [customerId] = positionals;
  const requested = values['as-of'];
  if (requested !== undefined && !POSITION.test(requested) && !(INSTANT.test(requested) && !Number.isNaN(Date.parse(requested)))) {
    throw new CliError(
      `--as-of ${JSON.stringify(requested)} is neither a log position (digits) nor a time (2025-03-14T10:22:05Z, 2025-03-14)`,
      EXIT.usage,
    );
  }
  const asOf = requested ?? new Date().toISOString();
  const client = new CxClient({ url: values.url, apiKey: values['api-key'], env: io.env });
  const replay = await fetchReplay(client, customerId, asOf);

  if (values.json) {
    io.stdout.write(`${JSON.stringify(replay, null, 2)}\n`);
    return EXIT.ok;
  }

  const colour = useColour(io);
  const paint: Paint = (codes, s) => (colour && codes ? `\u001b[${codes}m${s}\u001b[0m` : s);
  const point = replay.asOf.position !== undefined ? `log position ${replay.asOf.position}` : `${replay.asOf.time}`;
  const name = replay.state.profile.name ? ` (${replay.state.profile.name})` : '';
  const out = (line: string) => io.stdout.write(`${line}\n`);
  out(paint('1', `Journey of ${replay.customerId}${name} as of ${point}: ${replay.events.length} event${replay.events.length === 1 ? '' : 's'} (times UTC)`));
  if (replay.events.length === 0) out('  (nothing known about this customer then)');
  const widths = { position: Math.max(...replay.events.map((e) => e.position.length), 1) };

  if (!values.step) {
    for (const event of replay.events) out(eventLine(event, widths, paint));
  } else {
    const lines = createInterface({ input: io.stdin, terminal: false })[Symbol.asyncIterator]();
    let ended = false;
    try {
      for (const [i, event] of replay.events.entries()) {
        out(eventLine(event, widths, paint));
        if (i === replay.events.length - 1 || ended) continue;
        if (io.stdin.isTTY) io.stderr.write(paint('2', `  [${i + 1}/${replay.events.length}] Enter: next, q: quit `));
        const next = await lines.next();
        if (next.done) {
          ended = true;
          continue;
        }
        if (next.value.trim().toLowerCase() === 'q') {
          out(paint('2', `(stopped after ${i + 1} of ${replay.events.length} events)`));
          return EXIT.ok;
        }
      }
    } finally {
      await lines.return?.();
    }
  }
  for (const line of stateLines(replay.state, paint)) out(line);
  return EXIT.ok;
}

export const journeyCommand: Command = {
  name: 'journey',
  summary: "a customer's journey replayed from the log, as of a time or position",
  usage: USAGE,
  run,
};
