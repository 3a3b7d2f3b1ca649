import type { Metrics } from '@cx/http';
import type { RelayState } from './relay.js';

export type RelayMetrics = { published(topic: string, events: number): void };

/**
 * The relay's metrics in the process's registry: `cx_kafka_published_events_total` counted as
 * batches are acknowledged, and the lag gauges read from the stored checkpoint at scrape time
 * (so a relay standing by reports the active one's lag too).
 */
export function relayMetrics(metrics: Metrics, source: { state(): Promise<RelayState> }): RelayMetrics {
  const registry = metrics.registry;
  const published = registry.counter<'topic'>({
    name: 'cx_kafka_published_events_total',
    help: 'Events the Kafka relay of this process published (acknowledged by the broker, checkpoint moved), by topic.',
    labelNames: ['topic'],
  });
  const lagEvents = registry.gauge<'topic'>({
    name: 'cx_kafka_relay_lag_events',
    help: 'Stored events after the Kafka relay checkpoint: not yet acknowledged by the broker.',
    labelNames: ['topic'],
  });
  const lagSeconds = registry.gauge<'topic'>({
    name: 'cx_kafka_relay_lag_seconds',
    help: 'Age in seconds of the oldest stored event not yet published to Kafka (0 when caught up).',
    labelNames: ['topic'],
  });
  const waiting = registry.gauge<'topic'>({
    name: 'cx_kafka_relay_waiting_for_broker',
    help: '1 while the relay of this process waits for the broker (a send failed and is being retried), else 0.',
    labelNames: ['topic'],
  });
  registry.addCollector([lagEvents, lagSeconds, waiting], async () => {
    const state = await source.state();
    lagEvents.set({ topic: state.topic }, state.lagEvents);
    lagSeconds.set({ topic: state.topic }, state.lagSeconds);
    waiting.set({ topic: state.topic }, state.status === 'waiting-for-broker' ? 1 : 0);
  });
  return { published: (topic, events) => published.inc({ topic }, events) };
}
