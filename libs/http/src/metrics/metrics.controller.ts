import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Metrics } from './metrics.service.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.registry.js';

export const METRICS_PATH = 'metrics';

/** `GET /metrics`: the process's metrics in the Prometheus text format 0.0.4. */
@Controller()
export class MetricsController {
  constructor(@Inject(Metrics) private readonly metrics: Metrics) {}

  @Get(METRICS_PATH)
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.exposition();
  }
}
