import { isIngestEventType } from '@cx/domain';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { type Counter, type Gauge, type Histogram, MetricsRegistry } from './metrics.registry.js';

export type IngestStatus = 'accepted' | 'duplicate' | 'rejected' | 'aborted';
export type AppendOperation = 'append' | 'append_many' | 'decide_and_append';
export type AppendOutcome = 'ok' | 'conflict' | 'error';

/** What the lag gauges read at scrape time: ProjectionRunner.states() fits. */
export type ProjectionLagSource = {
  states(): Promise<ReadonlyArray<{ name: string; lagEvents: number; lagSeconds: number }>>;
};

export type MetricsOptions = {
  /** process_* and nodejs_* metrics (memory, CPU, event loop delay). Default true. */
  process?: boolean;
  onCollectError?: (metric: string, error: unknown) => void;
};

/** Label of a route no handler matched: never the raw URL, whose ids would make a series each. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Seconds. Appends are a few milliseconds on a warm server; a second is a problem. */
const APPEND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds. Read-your-writes waits up to 5 s, so the buckets reach past it. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The platform's metrics, in one registry per process. Record with `ingested`, `observeAppend`,
 * `observeHttp`; projection lag is read at scrape time from the source given to `watchProjections`.
 */
export class Metrics {
  readonly registry: MetricsRegistry;
  readonly ingestedEvents: Counter<'type' | 'status'>;
  readonly appendDuration: Histogram<'operation' | 'outcome'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly projectionLagEvents: Gauge<'projection'>;
  readonly projectionLagSeconds: Gauge<'projection'>;
  private readonly lagSources: ProjectionLagSource[] = [];
  private eventLoop?: IntervalHistogram;

  constructor(options: MetricsOptions = {}) {
    this.registry = new MetricsRegistry({ onCollectError: options.onCollectError });
    this.ingestedEvents = this.registry.counter({
      name: 'cx_ingested_events_total',
      help: 'CloudEvents received by the ingest API, by CloudEvents type (unknown for a type the API does not accept) and result.',
      labelNames: ['type', 'status'],
    });
    this.appendDuration = this.registry.histogram({
      name: 'cx_append_duration_seconds',
      help: 'Event store appends: seconds from the call to the commit (or the error).',
      labelNames: ['operation', 'outcome'],
      buckets: APPEND_BUCKETS,
    });
    this.httpDuration = this.registry.histogram({
      name: 'cx_http_request_duration_seconds',
      help: 'HTTP requests: seconds from arrival to the last byte of the response, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
    });
    this.projectionLagEvents = this.registry.gauge({
      name: 'cx_projection_lag_events',
      help: 'Events in the log after the projection checkpoint.',
      labelNames: ['projection'],
    });
    this.projectionLagSeconds = this.registry.gauge({
      name: 'cx_projection_lag_seconds',
      help: 'Age in seconds of the oldest event the projection has not folded yet (0 when caught up).',
      labelNames: ['projection'],
    });
    this.registry.addCollector([this.projectionLagEvents, this.projectionLagSeconds], () => this.collectLag());
    if (options.process !== false) this.registerProcessMetrics();
  }

  /** Counts ingested CloudEvents by their `type` as sent; an unaccepted type is counted as `unknown`. */
  ingested(type: unknown, status: IngestStatus, count = 1): void {
    this.ingestedEvents.inc({ type: isIngestEventType(type) ? type : 'unknown', status }, count);
  }

  /** Counts a whole batch: `raws` as received, `results` in the same order (IngestOutcome.results). */
  ingestedBatch(raws: readonly unknown[], results: ReadonlyArray<{ status: IngestStatus }>): void {
    // Counted per type and status first: one increment per series, not one per event.
    const counts = new Map<unknown, Map<IngestStatus, number>>();
    results.forEach((result, i) => {
      const raw = raws[i];
      const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
      const byStatus = counts.get(type) ?? new Map<IngestStatus, number>();
      byStatus.set(result.status, (byStatus.get(result.status) ?? 0) + 1);
      counts.set(type, byStatus);
    });
    for (const [type, byStatus] of counts) for (const [status, count] of byStatus) this.ingested(type, status, count);
  }

  observeAppend(operation: AppendOperation, outcome: AppendOutcome, seconds: number): void {
    this.appendDuration.observe({ operation, outcome }, seconds);
  }

  observeHttp(method: string, route: string, status: number | string, seconds: number): void {
    this.httpDuration.observe({ method, route, status }, seconds);
  }

  /** Lag gauges read `source.states()` once per scrape (both gauges share the read). */
  watchProjections(source: ProjectionLagSource): void {
    this.lagSources.push(source);
  }

  /** The exposition of every metric (text format 0.0.4). */
  exposition(): Promise<string> {
    return this.registry.exposition();
  }

  /** Stops the event-loop monitor. */
  close(): void {
    this.eventLoop?.disable();
    this.eventLoop = undefined;
  }

  private async collectLag(): Promise<void> {
    const states = (await Promise.all(this.lagSources.map((source) => source.states()))).flat();
    // Rebuilt at each scrape, so a projection that is gone disappears instead of showing its last lag.
    this.projectionLagEvents.reset();
    this.projectionLagSeconds.reset();
    for (const state of states) {
      this.projectionLagEvents.set({ projection: state.name }, state.lagEvents);
      this.projectionLagSeconds.set({ projection: state.name }, state.lagSeconds);
    }
  }

  private registerProcessMetrics(): void {
    const registry = this.registry;
    // From zero, so the first scrape reports the CPU time since the process started.
    let cpu = { user: 0, system: 0 };
    registry.counter({
      name: 'process_cpu_seconds_total',
      help: 'Total user and system CPU time spent in seconds.',
      collect: (counter) => {
        const now = process.cpuUsage();
        counter.inc(undefined, (now.user - cpu.user + now.system - cpu.system) / 1e6);
        cpu = now;
      },
    });
    registry.gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      collect: (gauge) => gauge.set(undefined, process.memoryUsage.rss()),
    });
    registry
      .gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.' })
      .set(undefined, Math.round(Date.now() / 1000 - process.uptime()));
    registry.gauge({
      name: 'nodejs_heap_size_used_bytes',
      help: 'V8 heap in use, in bytes.',
      collect: (gauge) => gauge.set(undefined, process.memoryUsage().heapUsed),
    });
    this.eventLoop = monitorEventLoopDelay({ resolution: 10 });
    this.eventLoop.enable();
    const mean = registry.gauge({ name: 'nodejs_eventloop_lag_mean_seconds', help: 'Mean event loop delay since the previous scrape, in seconds.' });
    const p99 = registry.gauge({ name: 'nodejs_eventloop_lag_p99_seconds', help: '99th percentile of the event loop delay since the previous scrape, in seconds.' });
    const max = registry.gauge({ name: 'nodejs_eventloop_lag_max_seconds', help: 'Longest event loop delay since the previous scrape, in seconds.' });
    registry.addCollector([mean, p99, max], () => {
      const histogram = this.eventLoop;
      if (!histogram) return;
      const seconds = (nanoseconds: number) => (histogram.count > 0 ? nanoseconds / 1e9 : 0);
      mean.set(undefined, seconds(histogram.mean));
      p99.set(undefined, seconds(histogram.percentile(99)));
      max.set(undefined, seconds(histogram.max));
      // Each scrape reports the interval since the previous one, as prom-client does.
      histogram.reset();
    });
  }
}
