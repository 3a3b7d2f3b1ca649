export { parseExposition, type Exposition, type Sample, samplesOf } from './exposition.parser.js';
export { CLIENT_CLOSED, httpMetricsMiddleware } from './http-metrics.middleware.js';
export { METRICS_PATH, MetricsController } from './metrics.controller.js';
export { MetricsModule, type MetricsModuleOptions } from './metrics.module.js';
export {
  Counter,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  Gauge,
  Histogram,
  type LabelValues,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from './metrics.registry.js';
export {
  type AppendOperation,
  type AppendOutcome,
  type IngestStatus,
  Metrics,
  type MetricsOptions,
  type ProjectionLagSource,
  UNMATCHED_ROUTE,
} from './metrics.service.js';
export { timedEventStore } from './timed-event-store.js';
