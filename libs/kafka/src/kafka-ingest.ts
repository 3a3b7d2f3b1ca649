import type { FieldError, IngestContext, IngestOutcome, ItemResult } from '@cx/ingest';
import type { Counter, Metrics } from '@cx/http';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { ConsumerStopped, retryInBatch, startRetrying } from './consumer-retry.js';

/** Why a message went to the dead-letter topic: the `cx_dlq_reason` header, as JSON. */
export type DeadLetterReason = {
  /** `invalid_json`: the bytes are not UTF-8 JSON; `rejected`: the ingest path refused the event (the same answer HTTP gives). */
  kind: 'invalid_json' | 'rejected';
  message: string;
  errors?: FieldError[];
  /** For an illegal transition: the state the event ran into. */
  current?: { stream: string; status: string };
};

export type IngestLogger = { log(message: string): void; warn(message: string): void; error(message: string): void };

export type KafkaIngestOptions = {
  kafka: Kafka;
  /** The topic channel systems send CloudEvents to (`cx.ingest`). */
  topic: string;
  deadLetterTopic: string;
  groupId: string;
  /** The write path of `POST /v1/events`: IngestService. */
  ingest: { ingest(raws: readonly unknown[], context: IngestContext): Promise<IngestOutcome> };
  metrics?: Metrics;
  logger?: IngestLogger;
  /** Messages handed to the ingest path per call (default 500). */
  chunkSize?: number;
  /** Backoff after a transient failure: first and longest wait, ms (defaults 200 and 10 000). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Read the topic from its start when the group has no committed offset (default true). */
  fromBeginning?: boolean;
};

export type KafkaIngestState = {
  status: 'up' | 'degraded' | 'down';
  topic: string;
  deadLetterTopic: string;
  group: string;
  connected: boolean;
  partitions: number[];
  accepted: number;
  duplicates: number;
  deadLettered: number;
  /** The last transient failure (cleared once a chunk goes through again). */
  lastError?: { message: string; at: string; partition?: number; offset?: string };
};

type Decoded = { raw: unknown } | { reason: DeadLetterReason };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function headerText(value: IHeaders[string]): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

function parseJson(bytes: Buffer | null, what: string): { value: unknown } | { reason: DeadLetterReason } {
  if (bytes === null || bytes.length === 0) return { reason: { kind: 'invalid_json', message: `${what} is empty` } };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { reason: { kind: 'invalid_json', message: `${what} is not UTF-8 text` } };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { reason: { kind: 'invalid_json', message: `${what} is not JSON: ${(error as Error).message}` } };
  }
}

/**
 * A Kafka message as the CloudEvent the ingest path takes, in either mode of the CloudEvents Kafka
 * protocol binding: binary (a `ce_specversion` header; the attributes are `ce_*` headers, the value
 * is the data) or structured (the value is the whole CloudEvent in JSON, the content type
 * `application/cloudevents+json` or none). What is not JSON is dead-lettered here; everything else
 * is validated by the ingest path itself, exactly as over HTTP.
 */
export function decodeIngestMessage(message: Pick<KafkaMessage, 'value' | 'headers'>): Decoded {
  const headers = message.headers ?? {};
  if (headers.ce_specversion !== undefined) {
    const raw: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith('ce_')) continue;
      const text = headerText(value);
      if (text !== undefined) raw[name.slice(3)] = text;
    }
    const contentType = headerText(headers['content-type'])?.split(';')[0].trim().toLowerCase();
    if (contentType) raw.datacontenttype = contentType;
    const data = parseJson(message.value, 'the value (the data of a binary-mode CloudEvent)');
    if ('reason' in data) return data;
    raw.data = data.value;
    return { raw };
  }
  const parsed = parseJson(message.value, 'the value');
  if ('reason' in parsed) return parsed;
  return { raw: parsed.value };
}

/** The offsets to commit after a message: kafkajs commits the next offset to read. */
const next = (offset: string) => (BigInt(offset) + 1n).toString();

/**
 * Channel systems' CloudEvents from a Kafka topic, through the same write path as `POST /v1/events`.
 * A batch of a partition is cut into chunks; a chunk's offsets are committed only once every message
 * in it is stored (or was already: a duplicate by source and id) or dead-lettered with the broker's
 * acknowledgement. A transient failure (the database down, Kafka refusing the dead letter) is
 * retried with backoff, heartbeating, without committing; it never dead-letters.
 */
export class KafkaIngestConsumer {
  private consumer?: Consumer;
  private producer?: Producer;
  private readonly logger: IngestLogger;
  private readonly chunkSize: number;
  private readonly counters?: { ingested: Counter<'status'>; deadLettered: Counter<'reason'> };
  private connected = false;
  private crashed?: { message: string; at: string };
  private partitions: number[] = [];
  private stats = { accepted: 0, duplicates: 0, deadLettered: 0 };
  private lastError?: KafkaIngestState['lastError'];
  private stopping = false;

  constructor(private readonly options: KafkaIngestOptions) {
    this.logger = options.logger ?? { log: () => undefined, warn: () => undefined, error: () => undefined };
    this.chunkSize = options.chunkSize ?? 500;
    this.counters = options.metrics ? kafkaIngestCounters(options.metrics) : undefined;
  }

  /** Connects and starts consuming; while the broker cannot be reached, tries again (until stop()). */
  async start(): Promise<void> {
    await startRetrying(
      {
        ...this.options,
        stopping: () => this.stopping,
        failed: (error, attempt) => {
          this.lastError = { message: `starting: ${error.message}`, at: new Date().toISOString() };
          if (attempt % 10 === 0) this.logger.warn(`kafka ingest consumer could not start (${error.message}); trying again`);
        },
      },
      () => this.connectAndRun(),
      async () => {
        await this.consumer?.disconnect().catch(() => undefined);
        await this.producer?.disconnect().catch(() => undefined);
      },
    );
  }


  private async connectAndRun(): Promise<void> {
    const { kafka, topic, groupId } = this.options;
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: true });
    this.consumer = consumer;
    consumer.on(consumer.events.CONNECT, () => (this.connected = true));
    consumer.on(consumer.events.DISCONNECT, () => (this.connected = false));
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.partitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      this.logger.log(`kafka ingest: group ${groupId} assigned ${topic} partitions [${this.partitions.join(', ')}]`);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error(`kafka ingest consumer crashed: ${payload.error.message}${payload.restart ? '; restarting' : ''}`);
      if (!payload.restart) this.crashed = { message: payload.error.message, at: new Date().toISOString() };
    });
    await consumer.connect();
    this.connected = true;
    await consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.lastError = undefined;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    try {
      for (let i = 0; i < batch.messages.length; i += this.chunkSize) {
        if (!payload.isRunning() || payload.isStale()) return;
        await this.handleChunk(payload, batch.messages.slice(i, i + this.chunkSize));
      }
    } catch (error) {
      if (error instanceof ConsumerStopped) return;
      throw error;
    }
  }

  private async handleChunk(payload: EachBatchPayload, messages: KafkaMessage[]): Promise<void> {
    const { topic, partition } = payload.batch;
    const decoded = messages.map(decodeIngestMessage);
    const raws: unknown[] = [];
    const rawIndex: number[] = [];
    decoded.forEach((d, i) => {
      if ('raw' in d) {
        raws.push(d.raw);
        rawIndex.push(i);
      }
    });

    const first = messages[0].offset;
    const results: ItemResult[] =
      raws.length === 0
        ? []
        : (
            await this.retrying(payload, first, () =>
              this.options.ingest.ingest(raws, {
                correlationId: `kafka:${topic}:${partition}:${first}`,
                principal: `kafka:${topic}`,
              }),
            )
          ).results;
    if (results.some((r) => r.status === 'aborted')) {
      // Only an atomic batch aborts, and this one is not: should it happen, store nothing as lost.
      throw new Error(`ingest aborted a non-atomic chunk at ${topic}/${partition}@${first}`);
    }

    const reasons: Array<DeadLetterReason | undefined> = decoded.map((d) => ('reason' in d ? d.reason : undefined));
    const counts = { accepted: 0, duplicates: 0 };
    results.forEach((result, n) => {
      if (result.status === 'rejected') {
        reasons[rawIndex[n]] = {
          kind: 'rejected',
          message: result.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; '),
          errors: result.errors,
          ...(result.current ? { current: result.current } : {}),
        };
      } else if (result.status === 'accepted') counts.accepted++;
      else if (result.status === 'duplicate') counts.duplicates++;
    });

    const letters = messages.flatMap((message, i) => {
      const reason = reasons[i];
      return reason ? [this.deadLetter(message, reason, topic, partition)] : [];
    });
    if (letters.length > 0) {
      await this.retrying(payload, first, () => this.producer!.send({ topic: this.options.deadLetterTopic, acks: -1, messages: letters }));
      for (const reason of reasons) if (reason) this.counters?.deadLettered.inc({ reason: reason.kind });
      this.logger.warn(`kafka ingest: ${letters.length} message(s) of ${topic}/${partition} dead-lettered to ${this.options.deadLetterTopic}`);
    }

    const last = messages[messages.length - 1].offset;
    payload.resolveOffset(last);
    await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next(last) }] }] });
    this.stats.accepted += counts.accepted;
    this.stats.duplicates += counts.duplicates;
    this.stats.deadLettered += letters.length;
    this.counters?.ingested.inc({ status: 'accepted' }, counts.accepted);
    this.counters?.ingested.inc({ status: 'duplicate' }, counts.duplicates);
    this.lastError = undefined;
    await payload.heartbeat();
  }

  /** The original key, value and headers, and the reason with where the message came from. */
  private deadLetter(message: KafkaMessage, reason: DeadLetterReason, topic: string, partition: number) {
    return {
      key: message.key,
      value: message.value,
      headers: {
        ...message.headers,
        cx_dlq_reason: JSON.stringify(reason),
        cx_dlq_source_topic: topic,
        cx_dlq_partition: String(partition),
        cx_dlq_offset: message.offset,
        cx_dlq_timestamp: message.timestamp,
        cx_dlq_group: this.options.groupId,
        cx_dlq_at: new Date().toISOString(),
      },
    };
  }

  /** Runs `step` until it succeeds, waiting longer after each failure, heartbeating while waiting. */
  private retrying<T>(payload: EachBatchPayload, offset: string, step: () => Promise<T>): Promise<T> {
    return retryInBatch(
      payload,
      {
        ...this.options,
        stopping: () => this.stopping,
        failed: (error, attempt) => {
          const message = error instanceof Error ? error.message : String(error);
          this.lastError = { message, at: new Date().toISOString(), partition: payload.batch.partition, offset };
          if (attempt % 10 === 0) {
            this.logger.warn(`kafka ingest: ${payload.batch.topic}/${payload.batch.partition}@${offset} failed (${message}); retrying, nothing committed`);
          }
        },
      },
      step,
    );
  }


  state(): KafkaIngestState {
    const { topic, deadLetterTopic, groupId } = this.options;
    // Down only when the consumer gave up (a restart may help); away from the broker or retrying, HTTP ingest still serves.
    const status = this.crashed ? 'down' : !this.connected || this.lastError ? 'degraded' : 'up';
    return {
      status,
      topic,
      deadLetterTopic,
      group: groupId,
      connected: this.connected,
      partitions: this.partitions,
      ...this.stats,
      ...(this.crashed ? { lastError: this.crashed } : this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Stops consuming (the chunk in hand finishes or is left uncommitted) and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    this.connected = false;
  }
}

/** The ingest topic's counters, registered once per registry (several consumers may share one). */
export function kafkaIngestCounters(metrics: Metrics): { ingested: Counter<'status'>; deadLettered: Counter<'reason'> } {
  const registry = metrics.registry;
  const ingested =
    (registry.get('cx_kafka_ingested_total') as Counter<'status'> | undefined) ??
    registry.counter({
      name: 'cx_kafka_ingested_total',
      help: 'Messages of the Kafka ingest topic stored (accepted) or found already stored (duplicate), offsets committed.',
      labelNames: ['status'],
    });
  const deadLettered =
    (registry.get('cx_kafka_dead_lettered_total') as Counter<'reason'> | undefined) ??
    registry.counter({
      name: 'cx_kafka_dead_lettered_total',
      help: 'Messages of the Kafka ingest topic sent to the dead-letter topic, by reason (invalid_json, rejected).',
      labelNames: ['reason'],
    });
  return { ingested, deadLettered };
}
