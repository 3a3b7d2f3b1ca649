import type { RecordedEvent } from '@cx/event-store';
import type { Projection } from '@cx/projections';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { fromKafkaMessage, InvalidEventMessageError } from './event-message.js';
import { ConsumerStopped, retryInBatch, startRetrying } from './consumer-retry.js';

export type KafkaProjectorLogger = { log(message: string): void; warn(message: string): void; error(message: string): void };

export type KafkaProjectorOptions = {
  kafka: Kafka;
  /** The events topic the relay publishes (`cx.events`). */
  topic: string;
  /** The consumer group the projector processes share (`cx-projector`). */
  groupId: string;
  /** The read models' database; `cx_kafka_consumer_offsets` (kafkaConsumerMigrations) must exist. */
  dataSource: DataSource;
  projections: readonly Projection[];
  /** Messages folded per transaction (default 1000). */
  batchSize?: number;
  /** Backoff after a failed transaction: first and longest wait, ms (defaults 200 and 10 000). */
  retryMinMs?: number;
  retryMaxMs?: number;
  logger?: KafkaProjectorLogger;
};

export type KafkaPartitionState = {
  partition: number;
  /** The next offset to fold, as stored with the read models. */
  nextOffset: string;
  /** The highest log position folded from this partition. */
  maxPosition: string;
  /** The partition's end (the broker's high watermark); lag = highWatermark - nextOffset. */
  highWatermark: string | null;
  lag: number | null;
};

export type KafkaProjectorState = {
  status: 'up' | 'degraded' | 'down';
  group: string;
  topic: string;
  connected: boolean;
  /** The partitions this process was assigned, with their stored offsets and lag. */
  partitions: KafkaPartitionState[];
  /** Events this process folded, re-sent messages it skipped, messages that were no event. */
  eventsApplied: number;
  duplicatesSkipped: number;
  invalidMessages: number;
  lastError?: { message: string; at: string; partition?: number; offset?: string };
};

/** The offsets row was written by a different set of projection versions: folding on would mix two folds. */
export class ProjectionVersionsChangedError extends Error {
  constructor(
    readonly stored: string,
    readonly current: string,
  ) {
    super(
      `the read models were folded by ${stored}, this process folds ${current}: rebuild them (truncate the read models and this group's cx_kafka_consumer_offsets rows, or use a new group) before folding from Kafka`,
    );
    this.name = 'ProjectionVersionsChangedError';
  }
}

type Applied = { seekTo?: string; applied: number; duplicates: number; invalid: number };

/** TypeORM answers a statement with rows on PostgreSQL (UPDATE: [rows, count]). */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? result[0] : result) as T[];
}

/**
 * Folds the events topic into the read models as one member of a Kafka consumer group: the group
 * shares the topic's partitions among the projector processes, and as the relay keys each event by
 * its customer, a customer's events are folded in order by whichever process holds its partition.
 *
 * Each chunk of a partition's batch is folded by every projection (`apply`, the events each one
 * handles) in one PostgreSQL transaction that also moves the partition's row in
 * `cx_kafka_consumer_offsets`: the next offset and the highest log position folded. That row, locked
 * for the transaction, is the truth about what was folded: on assignment the consumer seeks to it,
 * messages below it are skipped, and an event whose log position is not above the partition's
 * highest (a relay re-send) is skipped. So every event reaches the read models exactly once, across
 * crashes and rebalances. Kafka's committed offsets follow, for tools that show a group's lag.
 */
export class KafkaProjector {
  private consumer?: Consumer;
  private admin?: Admin;
  private readonly logger: KafkaProjectorLogger;
  private readonly batchSize: number;
  private readonly versions: string;
  private readonly handles: ReadonlyArray<{ projection: Projection; types: ReadonlySet<string> }>;
  private connected = false;
  private assigned: number[] = [];
  private stats = { eventsApplied: 0, duplicatesSkipped: 0, invalidMessages: 0 };
  private lastError?: KafkaProjectorState['lastError'];
  private crashed?: { message: string; at: string };
  private stopping = false;
  /** Partitions sought to their stored offset since the last assignment (a second attempt means the messages are gone). */
  private sought = new Map<number, string>();

  constructor(private readonly options: KafkaProjectorOptions) {
    this.logger = options.logger ?? { log: () => undefined, warn: () => undefined, error: () => undefined };
    this.batchSize = options.batchSize ?? 1000;
    this.versions = [...options.projections].map((p) => `${p.name}:${p.version}`).sort().join(',');
    this.handles = options.projections.map((projection) => ({ projection, types: new Set(projection.handles) }));
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Connects and joins the group; while the broker cannot be reached, tries again (until stop()). */
  async start(): Promise<void> {
    await startRetrying(
      {
        ...this.options,
        stopping: () => this.stopping,
        failed: (error, attempt) => {
          this.lastError = { message: `starting: ${error.message}`, at: new Date().toISOString() };
          if (attempt % 10 === 0) this.logger.warn(`kafka projector could not start (${error.message}); trying again`);
        },
      },
      () => this.connectAndRun(),
      async () => {
        await this.consumer?.disconnect().catch(() => undefined);
      },
    );
  }


  private async connectAndRun(): Promise<void> {
    const { kafka, topic, groupId } = this.options;
    const consumer = kafka.consumer({ groupId });
    this.consumer = consumer;
    consumer.on(consumer.events.CONNECT, () => (this.connected = true));
    consumer.on(consumer.events.DISCONNECT, () => (this.connected = false));
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      this.sought.clear();
      this.logger.log(`kafka projector: group ${groupId} assigned ${topic} partitions [${this.assigned.join(', ')}]`);
      void this.seekToStored(this.assigned).catch((error: unknown) => this.logger.warn(`kafka projector: seeking to the stored offsets failed (${(error as Error).message}); the batches check them anyway`));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error(`kafka projector consumer crashed: ${payload.error.message}${payload.restart ? '; restarting' : ''}`);
      if (!payload.restart) this.crashed = { message: payload.error.message, at: new Date().toISOString() };
    });
    await consumer.connect();
    this.connected = true;
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.lastError = undefined;
  }

  /** The database, not Kafka, knows what was folded: start each assigned partition there. */
  private async seekToStored(partitions: readonly number[]): Promise<void> {
    if (partitions.length === 0) return;
    const rows: Array<{ partition: number; next_offset: string }> = await this.options.dataSource.query(
      'SELECT partition, next_offset::text FROM cx_kafka_consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = ANY($3::int[])',
      [this.options.groupId, this.options.topic, partitions],
    );
    for (const row of rows) {
      if (!this.assigned.includes(row.partition)) continue;
      this.sought.set(row.partition, row.next_offset);
      this.consumer?.seek({ topic: this.options.topic, partition: row.partition, offset: row.next_offset });
    }
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    try {
      for (let i = 0; i < batch.messages.length; i += this.batchSize) {
        if (!payload.isRunning() || payload.isStale()) return;
        const chunk = batch.messages.slice(i, i + this.batchSize);
        const result = await this.retrying(payload, chunk[0].offset, () => this.applyChunk(batch.partition, chunk));
        if (result.seekTo !== undefined) {
          if (this.sought.get(batch.partition) === result.seekTo && (await this.isGone(batch.partition, result.seekTo))) {
            // The broker no longer has the messages to fold (retention): refuse to go on without them.
            const message = `partition ${batch.partition}: offsets from ${result.seekTo} are no longer on the broker; the read models would miss their events`;
            this.lastError = { message, at: new Date().toISOString(), partition: batch.partition, offset: result.seekTo };
            throw new Error(message);
          }
          this.sought.set(batch.partition, result.seekTo);
          this.consumer?.seek({ topic: batch.topic, partition: batch.partition, offset: result.seekTo });
          return;
        }
        const last = chunk[chunk.length - 1].offset;
        payload.resolveOffset(last);
        this.stats.eventsApplied += result.applied;
        this.stats.duplicatesSkipped += result.duplicates;
        this.stats.invalidMessages += result.invalid;
        this.lastError = undefined;
        const offsets = { topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }] };
        // Kafka's committed offset only follows the stored one (for tools); the heartbeat reports a rebalance.
        await payload.commitOffsetsIfNecessary(offsets).catch(() => undefined);
        await payload.heartbeat();
      }
    } catch (error) {
      if (error instanceof ConsumerStopped) return;
      throw error;
    }
  }

  /** One transaction: the partition's row locked, the new events folded by each projection, the row moved. */
  private applyChunk(partition: number, messages: readonly KafkaMessage[]): Promise<Applied> {
    const { groupId, topic } = this.options;
    return this.options.dataSource.transaction(async (manager: EntityManager) => {
      await manager.query(
        'INSERT INTO cx_kafka_consumer_offsets (group_id, topic, partition, versions) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [groupId, topic, partition, this.versions],
      );
      const [row] = rowsOf<{ next_offset: string; max_position: string; versions: string }>(
        await manager.query(
          'SELECT next_offset::text, max_position::text, versions FROM cx_kafka_consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
          [groupId, topic, partition],
        ),
      );
      if (row.versions !== this.versions) throw new ProjectionVersionsChangedError(row.versions, this.versions);
      const next = BigInt(row.next_offset);
      if (BigInt(messages[0].offset) > next) return { seekTo: next.toString(), applied: 0, duplicates: 0, invalid: 0 };

      let maxPosition = BigInt(row.max_position);
      const events: RecordedEvent[] = [];
      let duplicates = 0;
      let invalid = 0;
      for (const message of messages) {
        if (BigInt(message.offset) < next) continue;
        let event: RecordedEvent;
        try {
          event = fromKafkaMessage(message);
        } catch (error) {
          if (!(error instanceof InvalidEventMessageError)) throw error;
          invalid++;
          this.logger.error(`kafka projector: ${topic}/${partition}@${message.offset} skipped, ${error.message}`);
          continue;
        }
        if (event.position <= maxPosition) {
          duplicates++;
          continue;
        }
        maxPosition = event.position;
        events.push(event);
      }
      for (const { projection, types } of this.handles) {
        const relevant = events.filter((e) => types.has(e.type));
        if (relevant.length > 0) await projection.apply(relevant, manager);
      }
      const last = BigInt(messages[messages.length - 1].offset);
      await manager.query(
        `UPDATE cx_kafka_consumer_offsets
            SET next_offset = $4, max_position = $5, events_applied = events_applied + $6, updated_at = now()
          WHERE group_id = $1 AND topic = $2 AND partition = $3`,
        [groupId, topic, partition, (last + 1n).toString(), maxPosition.toString(), events.length],
      );
      return { applied: events.length, duplicates, invalid };
    });
  }

  /** The partition's first offset on the broker is beyond `offset`. */
  private async isGone(partition: number, offset: string): Promise<boolean> {
    this.admin ??= this.options.kafka.admin();
    await this.admin.connect();
    const low = (await this.admin.fetchTopicOffsets(this.options.topic)).find((p) => p.partition === partition)?.low;
    return low !== undefined && BigInt(low) > BigInt(offset);
  }


  /** Runs `step` until it succeeds: nothing was folded or stored by a failed attempt (its transaction rolled back). */
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
            this.logger.error(`kafka projector: folding ${payload.batch.topic}/${payload.batch.partition}@${offset} failed (${message}); retrying`);
          }
        },
      },
      step,
    );
  }


  /** What this process holds, with the stored offsets and the broker's ends (lag). */
  async state(): Promise<KafkaProjectorState> {
    const { groupId, topic } = this.options;
    const partitions = [...this.assigned];
    const rows: Array<{ partition: number; next_offset: string; max_position: string }> =
      partitions.length === 0
        ? []
        : await this.options.dataSource.query(
            'SELECT partition, next_offset::text, max_position::text FROM cx_kafka_consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = ANY($3::int[])',
            [groupId, topic, partitions],
          );
    let ends = new Map<number, string>();
    if (partitions.length > 0 && !this.stopping) {
      try {
        this.admin ??= this.options.kafka.admin();
        await this.admin.connect();
        ends = new Map((await this.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
      } catch {
        // Lag unknown while the broker does not answer; the rest still holds.
      }
    }
    const stored = new Map(rows.map((r) => [r.partition, r]));
    const status = this.crashed ? 'down' : !this.connected || this.lastError ? 'degraded' : 'up';
    return {
      status,
      group: groupId,
      topic,
      connected: this.connected,
      partitions: partitions.map((partition) => {
        const nextOffset = stored.get(partition)?.next_offset ?? '0';
        const high = ends.get(partition) ?? null;
        return {
          partition,
          nextOffset,
          maxPosition: stored.get(partition)?.max_position ?? '0',
          highWatermark: high,
          lag: high === null ? null : Math.max(0, Number(BigInt(high) - BigInt(nextOffset))),
        };
      }),
      ...this.stats,
      ...(this.crashed ? { lastError: this.crashed } : this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Leaves the group (its partitions go to the other members) and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.connected = false;
    this.assigned = [];
  }
}
