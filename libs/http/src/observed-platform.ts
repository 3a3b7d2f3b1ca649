import { PlatformModule, type PlatformConfig, type SchemaParts } from '@cx/platform';
import type { DynamicModule } from '@nestjs/common';
import { MetricsModule } from './metrics/metrics.module.js';
import { Metrics } from './metrics/metrics.service.js';
import { timedEventStore } from './metrics/timed-event-store.js';

/** The platform (database, event store, PII vault) with its appends timed, and `/metrics`: what every app starts with. */
export function observedPlatform(config: PlatformConfig, schema: SchemaParts, options: { personalData?: boolean } = {}): DynamicModule[] {
  const metrics = new Metrics();
  return [
    PlatformModule.forRoot(config, schema, { ...options, decorateEventStore: (store) => timedEventStore(store, metrics) }),
    MetricsModule.forRoot({ metrics }),
  ];
}
