import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';

/** The whole machine's CPU time so far (Linux /proc/stat, in ticks): busy (all but idle and iowait) and total; undefined elsewhere. */
export async function machineTicks(): Promise<{ busy: number; total: number } | undefined> {
  const line = (await readFile('/proc/stat', 'utf8').catch(() => '')).split('\n')[0];
  if (!line.startsWith('cpu ')) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3] - ticks[4], total };
}

/** The cores the whole machine kept busy between two samples of machineTicks, on average; NaN without /proc/stat. */
export function coresBetween(from: { busy: number; total: number } | undefined, to: { busy: number; total: number } | undefined): number {
  return from && to && to.total > from.total ? ((to.busy - from.busy) / (to.total - from.total)) * cpus().length : Number.NaN;
}

/** What one side (store or baseline) did over all segments of a scenario. */
export type SideTotals = { events: number; calls: number; elapsedMs: number; latenciesMs: number[] };

export type SideSummary = { eventsPerSecond: number; p50Ms: number; p99Ms: number; calls: number };

export type ScenarioResult = {
  batchSize: number;
  writers: number;
  store: SideSummary;
  baseline: SideSummary;
  ratio: number;
};

/** Nearest-rank percentile of a sorted list. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarize(totals: SideTotals): SideSummary {
  const sorted = Float64Array.from(totals.latenciesMs).sort();
  return {
    eventsPerSecond: totals.events / (totals.elapsedMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    calls: totals.calls,
  };
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

export const TARGET_RATIO = 0.6;
export const TARGET_BATCH = 100;

export function verdict(result: ScenarioResult): string {
  if (result.batchSize !== TARGET_BATCH) return '';
  return result.ratio >= TARGET_RATIO ? 'PASS' : 'FAIL';
}

/** A markdown table whose columns line up, so it reads the same on a terminal and in the docs. */
export function renderTable(results: readonly ScenarioResult[]): string {
  const header = [
    'batch',
    'writers',
    'store ev/s',
    'store p50 ms',
    'store p99 ms',
    'limit ev/s',
    'limit p50 ms',
    'limit p99 ms',
    'store/limit',
    `target ≥ ${TARGET_RATIO}`,
  ];
  const rows = results.map((r) => [
    String(r.batchSize),
    String(r.writers),
    integer.format(r.store.eventsPerSecond),
    ms(r.store.p50Ms),
    ms(r.store.p99Ms),
    integer.format(r.baseline.eventsPerSecond),
    ms(r.baseline.p50Ms),
    ms(r.baseline.p99Ms),
    r.ratio.toFixed(2),
    verdict(r) || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => (i < 2 || i === cells.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 || i === widths.length - 1 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const INTRO = `# Benchmarks

Benchmarks are scripts run by hand (\`npm run bench:<name>\`), never timed assertions in tests:
timings depend on the machine, and a test that fails on a slow runner proves nothing.

Each benchmark measures the code under test **and a baseline on the same machine in the same run**
(interleaved, so machine noise hits both alike) and states its result as a **ratio to that
baseline**. The absolute figures below describe only the machine they were taken on; compare
ratios, and re-run a benchmark on the machine you care about.

Each section is rewritten by its benchmark between its \`<!-- bench:<name>:start -->\` and
\`<!-- bench:<name>:end -->\` markers; everything outside the markers is left as it is.
`;

/** Replaces the text between a section's markers, appending the section (and creating the file) when missing. */
export async function writeDocsSection(path: string, name: string, body: string): Promise<void> {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const current = existsSync(path) ? await readFile(path, 'utf8') : INTRO;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from)}${section}${current.slice(to + end.length)}`
      : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(path, next);
}
