/**
 * A small Prometheus client: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4. Written here because prom-client is not a dependency; it follows the
 * same model (a registry of metric families, collect callbacks run at scrape time).
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type LabelValues<L extends string> = Readonly<Record<L, string | number>>;

type MetricType = 'counter' | 'gauge' | 'histogram';

export type MetricOptions<L extends string> = {
  name: string;
  help: string;
  labelNames?: readonly L[];
};

export type CollectOptions<M> = {
  /** Called at every scrape before the metric is rendered, to read values kept elsewhere. */
  collect?: (metric: M) => void | Promise<void>;
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `\` and line feeds escaped, as HELP text requires. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `\`, `"` and line feeds escaped, as label values require. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus writes it: `+Inf`, `-Inf`, `NaN` or a decimal number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function renderLabels(pairs: ReadonlyArray<readonly [string, string]>): string {
  if (pairs.length === 0) return '';
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

abstract class Metric<L extends string, Series> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: MetricType;
  protected readonly series = new Map<string, { labels: Array<readonly [string, string]>; value: Series }>();

  constructor(options: MetricOptions<L>, reserved: readonly string[] = []) {
    if (!METRIC_NAME.test(options.name)) throw new Error(`invalid metric name ${JSON.stringify(options.name)}`);
    const labelNames = options.labelNames ?? [];
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || reserved.includes(label)) {
        throw new Error(`metric ${options.name}: invalid label name ${JSON.stringify(label)}`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`metric ${options.name}: duplicate label names`);
    this.name = options.name;
    this.help = options.help;
    this.labelNames = labelNames;
  }

  private labelValues(labels: LabelValues<L> | undefined): string[] {
    const given = (labels ?? {}) as Record<string, string | number>;
    const values = this.labelNames.map((name) => {
      const value = given[name];
      if (value === undefined) throw new Error(`metric ${this.name}: label ${name} is missing`);
      return String(value);
    });
    if (Object.keys(given).length !== this.labelNames.length) {
      throw new Error(`metric ${this.name}: labels must be exactly ${this.labelNames.join(', ') || '(none)'}`);
    }
    return values;
  }

  /** The series of these label values, created with `initial` on first use. */
  protected seriesOf(labels: LabelValues<L> | undefined, initial: () => Series): Series {
    const values = this.labelValues(labels);
    const key = values.join('\u0000');
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: this.labelNames.map((name, i) => [name, values[i]] as const), value: initial() };
      this.series.set(key, entry);
    }
    return entry.value;
  }

  /** The series of these label values if it exists. */
  protected find(labels: LabelValues<L> | undefined): Series | undefined {
    return this.series.get(this.labelValues(labels).join('\u0000'))?.value;
  }

  /** Forgets every series (a collect callback that rebuilds the whole set starts here). */
  reset(): void {
    this.series.clear();
  }

  /** The sample lines, without HELP and TYPE. */
  abstract samples(): string[];

  /** Runs the metric's collect callback, if it has one. */
  abstract collectNow(): void | Promise<void>;

  render(): string {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join('\n');
  }
}

export class Counter<L extends string = never> extends Metric<L, { value: number }> {
  readonly type = 'counter';

  private readonly collect?: (metric: Counter<L>) => void | Promise<void>;

  constructor(options: MetricOptions<L> & CollectOptions<Counter<L>>) {
    super(options);
    this.collect = options.collect;
    // A counter without labels has one series from the start: 0 is a value, absence is not.
    if (this.labelNames.length === 0) this.seriesOf(undefined, () => ({ value: 0 }));
  }

  collectNow(): void | Promise<void> {
    return this.collect?.(this);
  }

  inc(labels?: LabelValues<L>, by = 1): void {
    if (!(by >= 0)) throw new Error(`metric ${this.name}: a counter only goes up (got ${by})`);
    this.seriesOf(labels, () => ({ value: 0 })).value += by;
  }

  /** The current value; undefined for a series never set. */
  get(labels?: LabelValues<L>): number | undefined {
    return this.find(labels)?.value;
  }

  samples(): string[] {
    return [...this.series.values()].map(({ labels, value }) => `${this.name}${renderLabels(labels)} ${formatValue(value.value)}`);
  }
}

export class Gauge<L extends string = never> extends Metric<L, { value: number }> {
  readonly type = 'gauge';

  private readonly collect?: (metric: Gauge<L>) => void | Promise<void>;

  constructor(options: MetricOptions<L> & CollectOptions<Gauge<L>>) {
    super(options);
    this.collect = options.collect;
  }

  collectNow(): void | Promise<void> {
    return this.collect?.(this);
  }

  set(labels: LabelValues<L> | undefined, value: number): void {
    this.seriesOf(labels, () => ({ value: 0 })).value = value;
  }

  inc(labels?: LabelValues<L>, by = 1): void {
    this.seriesOf(labels, () => ({ value: 0 })).value += by;
  }

  dec(labels?: LabelValues<L>, by = 1): void {
    this.seriesOf(labels, () => ({ value: 0 })).value -= by;
  }

  /** The current value; undefined for a series never set. */
  get(labels?: LabelValues<L>): number | undefined {
    return this.find(labels)?.value;
  }

  samples(): string[] {
    return [...this.series.values()].map(({ labels, value }) => `${this.name}${renderLabels(labels)} ${formatValue(value.value)}`);
  }
}

type HistogramSeries = { counts: number[]; sum: number; count: number };

export type HistogramOptions<L extends string> = MetricOptions<L> & { buckets: readonly number[] };

/** Observations counted into buckets by upper bound (`le`, inclusive), rendered cumulatively with `+Inf`, `_sum` and `_count`. */
export class Histogram<L extends string = never> extends Metric<L, HistogramSeries> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(options: HistogramOptions<L>) {
    super(options, ['le']);
    const buckets = [...options.buckets];
    if (buckets.length === 0) throw new Error(`metric ${this.name}: at least one bucket`);
    buckets.forEach((bound, i) => {
      if (!Number.isFinite(bound)) throw new Error(`metric ${this.name}: bucket bounds are finite (+Inf is implied)`);
      if (i > 0 && bound <= buckets[i - 1]) throw new Error(`metric ${this.name}: bucket bounds must increase`);
    });
    this.buckets = buckets;
  }

  collectNow(): void {}

  /** Count and sum of a series; undefined when nothing was observed. */
  get(labels?: LabelValues<L>): { count: number; sum: number } | undefined {
    const series = this.find(labels);
    return series && { count: series.count, sum: series.sum };
  }

  observe(labels: LabelValues<L> | undefined, value: number): void {
    if (Number.isNaN(value)) return;
    const series = this.seriesOf(labels, () => ({ counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }));
    const bucket = this.buckets.findIndex((bound) => value <= bound);
    if (bucket >= 0) series.counts[bucket]++;
    series.sum += value;
    series.count++;
  }

  /** Starts a clock; the returned function observes the seconds elapsed (labels may be completed then). */
  startTimer(labels?: Partial<LabelValues<L>>): (more?: Partial<LabelValues<L>>) => number {
    const started = process.hrtime.bigint();
    return (more) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.observe({ ...labels, ...more } as LabelValues<L>, seconds);
      return seconds;
    };
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const { labels, value } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += value.counts[i];
        lines.push(`${this.name}_bucket${renderLabels([...labels, ['le', formatValue(bound)]])} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${renderLabels([...labels, ['le', '+Inf']])} ${value.count}`);
      lines.push(`${this.name}_sum${renderLabels(labels)} ${formatValue(value.sum)}`);
      lines.push(`${this.name}_count${renderLabels(labels)} ${value.count}`);
    }
    return lines;
  }
}

/** What the registry needs of a metric family. */
type Family = { readonly name: string; readonly type: MetricType; render(): string; collectNow(): void | Promise<void> };

export type MetricsRegistryOptions = {
  /** A collect callback failed: its metric is left out of this scrape rather than shown stale. */
  onCollectError?: (metric: string, error: unknown) => void;
};

/** Metric families by name; `exposition()` runs the collect callbacks and renders them all. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Family>();
  private readonly collectors: Array<{ metrics: readonly Family[]; collect: () => void | Promise<void> }> = [];
  private scraping: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MetricsRegistryOptions = {}) {}

  counter<L extends string = never>(options: MetricOptions<L> & CollectOptions<Counter<L>>): Counter<L> {
    return this.register(new Counter<L>(options));
  }

  gauge<L extends string = never>(options: MetricOptions<L> & CollectOptions<Gauge<L>>): Gauge<L> {
    return this.register(new Gauge<L>(options));
  }

  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.register(new Histogram<L>(options));
  }

  register<M extends Family>(metric: M): M {
    // A histogram's series names must not collide with another family either.
    const names = metric.type === 'histogram' ? [metric.name, `${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`] : [metric.name];
    for (const name of names) {
      if ([...this.metrics.values()].some((m) => m.name === name || (m.type === 'histogram' && [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`].includes(name)))) {
        throw new Error(`metric ${name} is already registered`);
      }
    }
    this.metrics.set(metric.name, metric);
    return metric;
  }

  /**
   * A callback that fills several metrics from one read at each scrape (one query for two gauges,
   * say). Should it fail, those metrics are left out of the scrape.
   */
  addCollector(metrics: readonly Family[], collect: () => void | Promise<void>): void {
    this.collectors.push({ metrics, collect });
  }

  get(name: string): Family | undefined {
    return this.metrics.get(name);
  }

  /** The whole registry in the text format. Scrapes are serialized, so two never interleave their collect callbacks. */
  exposition(): Promise<string> {
    const next = this.scraping.then(() => this.render());
    this.scraping = next.catch(() => undefined);
    return next;
  }

  private async render(): Promise<string> {
    const metrics = [...this.metrics.values()];
    const failed = new Set<string>();
    await Promise.all([
      ...metrics.map(async (metric) => {
        try {
          await metric.collectNow();
        } catch (error) {
          failed.add(metric.name);
          this.options.onCollectError?.(metric.name, error);
        }
      }),
      ...this.collectors.map(async ({ metrics: filled, collect }) => {
        try {
          await collect();
        } catch (error) {
          for (const metric of filled) failed.add(metric.name);
          this.options.onCollectError?.(filled.map((m) => m.name).join(', '), error);
        }
      }),
    ]);
    const families = metrics.filter((m) => !failed.has(m.name)).map((m) => m.render());
    return families.length > 0 ? `${families.join('\n')}\n` : '';
  }
}
