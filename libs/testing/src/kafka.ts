import { randomUUID } from 'node:crypto';

/**
 * The broker the Kafka suites talk to: KAFKA_BROKERS, as `.ci/run` and `deploy/local/kafka.sh`
 * set it. Unset, the Kafka suites are skipped, and under CI=true a skipped suite fails the run.
 */
export const testKafkaBrokers: string[] | undefined = process.env.KAFKA_BROKERS
  ? process.env.KAFKA_BROKERS.split(',').map((broker) => broker.trim()).filter(Boolean)
  : undefined;

/** `describe` when a broker is configured, `describe.skip` otherwise. */
export const describeWithKafka: jest.Describe = testKafkaBrokers ? describe : describe.skip;

/** A topic name no other test file or run uses, so suites can share one broker. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}.test-${randomUUID().slice(0, 8)}`;
}
