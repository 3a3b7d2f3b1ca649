import { randomUUID } from 'node:crypto';

/**
 * The broker the Kafka suites talk to: KAFKA_BROKERS, as `.ci/run` and `deploy/local/kafka.sh`
 * set it. Unset, the Kafka suites are skipped, and under CI=true a skipped suite fails the run.
 */
export const testKafkaBrokers: string[] | undefined = process.env.KAFKA_BROKERS
  ? process.env.KAFKA_BROKERS.split(',').map((broker) => broker.trim()).filter(Boolean)
  : undefined;

/**
 * `describe` when a broker is configured, `describe.skip` otherwise. Read from globalThis, so that
 * importing @cx/testing outside jest (the seed script, benchmarks) does not throw.
 */
export const describeWithKafka: jest.Describe = (testKafkaBrokers ? globalThis.describe : globalThis.describe?.skip) as jest.Describe;

/** A topic name no other test file or run uses, so suites can share one broker. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}.test-${randomUUID().slice(0, 8)}`;
}
