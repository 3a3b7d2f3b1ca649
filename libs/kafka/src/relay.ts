import type { EventStore, Position, RecordedEvent, Subscription } from '@cx/event-store';
import { streamLockKey } from '@cx/event-store';
import { CompressionTypes, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { toKafkaMessage } from './event-message.js';

/** Advisory-lock key space of relay leases (two-int form); projections use 42101. */
const LEASE_SPACE = 42_102;

export type RelayStatus = 'starting' | 'standby' | 'running' | 'waiting-for-broker' | 'stopped';

export type RelayLogger = { log(message: string): void; warn(message: string): void; error(message: string): void };

export type KafkaRelayOptions = {
  store: EventStore;
  /** Checkpoint reads and writes, and (lease 'database') the lease's own connection. */
  pool: Pool;
  kafka: Kafka;
  topic: string;
  /** The checkpoint's name (one per relay and topic). Default `relay`. */
  name?: string;
  /**
   * How only one relay publishes: `database`, a session advisory lock on a connection of its own,
   * for processes sharing a PostgreSQL server; `process`, a lock inside this process, for the
   * embedded database (one process opens it, and its single connection cannot be held for a lease).
   */
  lease: 'database' | 'process';
  /** Events read from the log and sent to the broker in one request. Default 500 (the fastest in bench:kafka). */
  batchSize?: number;
  /** Partitions of the topic when the relay creates it. Default 6. */
  partitions?: number;
  /** How often a relay standing by tries to take the lease. Default 2 s. */
  leaseRetryMs?: number;
  /** Waits between attempts while the broker is unreachable: doubling from initialMs up to maxMs. */
  backoff?: { initialMs: number; maxMs: number };
  logger?: RelayLogger;
  /** Called after each acknowledged batch whose checkpoint moved (metrics). */
  onPublished?: (events: number) => void;
};

export type RelayState = {
  name: string;
  topic: string;
  /** This process's relay: `standby` while another process holds the lease. */
  status: RelayStatus;
  /** The last request to the broker succeeded (false in standby: this process does not talk to it). */
  brokerConnected: boolean;
  /** The stored checkpoint: every event up to it was acknowledged by the broker. */
  position: string;
  lagEvents: number;
  /** Age of the oldest stored event not yet published; 0 when caught up. */
  lagSeconds: number;
  /** Events this process published since it started. */
  publishedEvents: number;
  updatedAt: string | null;
  /** When the current broker outage began, while publishing waits. */
  waitingSince?: string;
  lastError?: string;
};

/** Another process moved the checkpoint under us: our lease was lost. Stop publishing, stand by. */
export class RelayCheckpointFencedError extends Error {
  constructor(readonly topic: string) {
    super(`relay to ${topic}: the checkpoint moved in another process; this one stands by`);
    this.name = 'RelayCheckpointFencedError';
  }
}

/** The relay was stopped, or its lease lost, while it was publishing: the batch is left for later. */
class Interrupted extends Error {
  constructor() {
    super('relay interrupted');
    this.name = 'Interrupted';
  }
}

/** Locks of `process` leases: per pool, so per database. */
const processLeases = new WeakMap<Pool, Set<string>>();

/** kafkajs wraps protocol errors (NonRetriable, NumberOfRetriesExceeded): the error's and its causes' protocol types. */
function protocolTypes(error: unknown): string[] {
  const types: string[] = [];
  for (let e = error as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string') types.push(e.type);
  }
  return types;
}

const TOO_LARGE = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'];
/** The idempotent session cannot go on: start a new producer (a new producer id, sequences from 0). */
const SESSION_LOST = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING'];
const MISSING_TOPIC = ['UNKNOWN_TOPIC_OR_PARTITION'];

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Publishes every stored event to a Kafka topic, in log order. It follows the global log from its
 * own checkpoint, sends each batch with an idempotent producer (acks from all in-sync replicas,
 * one request in flight, so a customer's events keep their order within their partition), and
 * moves the checkpoint only once the broker acknowledged the batch — with a compare-and-set, so
 * a process whose lease was lost cannot move it. A send that fails is retried, the same batch,
 * with backoff, for as long as the broker is away: nothing is skipped or dropped. A re-send after
 * a lost acknowledgement may duplicate events; a duplicate carries the same `ce_id`.
 */
export class KafkaRelay {
  readonly name: string;
  readonly topic: string;
  private readonly batchSize: number;
  private readonly logger: RelayLogger;
  private readonly leaseKey: string;
  private status: RelayStatus = 'stopped';
  private stopped = true;
  private interrupted = false;
  private cycle?: Promise<void>;
  private subscription?: Subscription;
  /** The batch being sent and checkpointed; its failure, which ends the subscription. */
  private inFlight?: Promise<void>;
  private failure?: unknown;
  private producer?: Producer;
  private topicReady = false;
  private leaseHeld = false;
  private leaseClient?: PoolClient;
  private checkpoint: Position = 0n;
  /** Events per produce request: the batch size, lowered for good when the broker finds a request too large. */
  private sendLimit: number;
  private published = 0;
  private brokerConnected = false;
  private outageSince?: number;
  private outageAttempts = 0;
  private lastError?: string;
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: KafkaRelayOptions) {
    this.name = options.name ?? 'relay';
    this.topic = options.topic;
    this.batchSize = options.batchSize ?? 500;
    this.sendLimit = this.batchSize;
    this.logger = options.logger ?? { log: () => undefined, warn: () => undefined, error: () => undefined };
    this.leaseKey = `${this.name}:${this.topic}`;
  }

  /** The checkpoint as this process last moved or read it. */
  get position(): Position {
    return this.checkpoint;
  }

  get currentStatus(): RelayStatus {
    return this.status;
  }

  /** Events this process published (acknowledged, checkpoint moved). */
  get publishedEvents(): number {
    return this.published;
  }

  /** Starts following the log in the background; returns once the checkpoint exists. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.status = 'starting';
    await this.options.pool.query('INSERT INTO cx_relay_checkpoints (name, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING', [this.name, this.topic]);
    this.cycle = this.loop();
  }

  /**
   * Stops publishing. A batch being sent is finished (and its checkpoint moved) unless the broker
   * is away; then it is left for the next start. Releases the lease.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    // While the broker is away a send can hang for kafkajs' own retries: cut it short.
    if (this.outageSince !== undefined) await this.closeProducer();
    await this.subscription?.stop();
    await this.cycle;
    await this.closeProducer();
    await this.releaseLease();
    if (this.leaseClient) {
      this.leaseClient.removeAllListeners('error');
      this.leaseClient.release();
      this.leaseClient = undefined;
    }
    this.status = 'stopped';
  }

  /** The stored checkpoint and lag (so a relay standing by reports the active one's progress), with this process's status. */
  async state(): Promise<RelayState> {
    const { rows } = await this.options.pool.query<{ position: string; updated_at: Date | null; lag_events: string; oldest: Date | null }>(
      `SELECT c.position::text AS position, c.updated_at,
              (SELECT count(*) FROM cx_events e WHERE e.position > c.position) AS lag_events,
              (SELECT e.recorded_at FROM cx_events e WHERE e.position > c.position ORDER BY e.position LIMIT 1) AS oldest
         FROM (SELECT $1::text AS name, $2::text AS topic) k
         LEFT JOIN LATERAL (SELECT coalesce(max(position), 0) AS position, max(updated_at) AS updated_at
                              FROM cx_relay_checkpoints WHERE name = k.name AND topic = k.topic) c ON true`,
      [this.name, this.topic],
    );
    const row = rows[0];
    return {
      name: this.name,
      topic: this.topic,
      status: this.status,
      brokerConnected: this.brokerConnected,
      position: row.position,
      lagEvents: Number(row.lag_events),
      lagSeconds: row.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0,
      publishedEvents: this.published,
      updatedAt: row.updated_at ? row.updated_at.toISOString() : null,
      ...(this.outageSince ? { waitingSince: new Date(this.outageSince).toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      this.interrupted = false;
      this.failure = undefined;
      try {
        if (!(await this.takeLease())) {
          this.status = 'standby';
          await this.pause(this.options.leaseRetryMs ?? 2_000);
          continue;
        }
        await this.connect();
        this.checkpoint = await this.readCheckpoint();
        this.status = 'running';
        this.logger.log(`relay to ${this.topic} publishing from position ${this.checkpoint}`);
        const subscription = this.options.store.subscribeBatches(this.checkpoint, (events) => this.handle(events), { limit: this.batchSize });
        this.subscription = subscription;
        if (this.stopped || this.interrupted) void subscription.stop();
        try {
          await subscription.done;
        } finally {
          await this.inFlight;
          this.inFlight = undefined;
        }
        if (this.failure) throw this.failure;
        failures = 0;
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof Interrupted) continue;
        if (error instanceof RelayCheckpointFencedError) {
          this.logger.warn(error.message);
          await this.releaseLease();
          this.status = 'standby';
          await this.pause(this.options.leaseRetryMs ?? 2_000);
          continue;
        }
        // The database, most likely: start again from the stored checkpoint (a batch sent but not
        // checkpointed is sent again; its events keep their ce_id).
        this.lastError = messageOf(error);
        const wait = this.backoffMs(failures++);
        this.logger.error(`relay to ${this.topic} failed at position ${this.checkpoint}: ${this.lastError}; starting again in ${wait} ms`);
        await this.pause(wait);
      } finally {
        this.subscription = undefined;
        // The next run may send other messages after one whose outcome is unknown: a new producer id.
        await this.closeProducer();
      }
    }
  }

  private async readCheckpoint(): Promise<Position> {
    const { rows } = await this.options.pool.query<{ position: string }>('SELECT position::text AS position FROM cx_relay_checkpoints WHERE name = $1 AND topic = $2', [
      this.name,
      this.topic,
    ]);
    return BigInt(rows[0]?.position ?? 0);
  }

  /**
   * Handed each batch in log order. Its messages are built while the previous batch is still on
   * its way to the broker; it is sent once that one is acknowledged and checkpointed. So sends
   * stay one at a time and in order, but building overlaps with waiting for the broker.
   */
  private async handle(events: readonly RecordedEvent[]): Promise<void> {
    const messages: Message[] = events.map(toKafkaMessage);
    await this.inFlight;
    if (this.failure) throw this.failure;
    this.checkInterrupted();
    const subscription = this.subscription;
    this.inFlight = this.publish(messages, events[events.length - 1].position).catch((error: unknown) => {
      this.failure ??= error;
      void subscription?.stop();
    });
  }

  /**
   * One batch: send until the broker acknowledges all of it, then move the checkpoint. A failed
   * send is retried with the very same messages, so the idempotent producer's sequence numbers
   * let the broker drop what it had already written. When the messages must change (a request
   * too large for the broker, sent again in halves), the producer is replaced first: a new
   * producer id, so nothing new is ever taken for a repeat of something old.
   */
  private async publish(messages: readonly Message[], to: Position): Promise<void> {
    for (let sent = 0, attempt = 0; sent < messages.length; ) {
      this.checkInterrupted();
      const chunk = messages.slice(sent, sent + this.sendLimit);
      try {
        await this.connect();
        await this.producer!.send({ topic: this.topic, messages: chunk, acks: -1, compression: CompressionTypes.None });
        sent += chunk.length;
        attempt = 0;
      } catch (error) {
        if (error instanceof Interrupted) throw error;
        const types = protocolTypes(error);
        if (types.some((t) => TOO_LARGE.includes(t)) && chunk.length > 1) {
          this.sendLimit = Math.ceil(chunk.length / 2);
          this.logger.warn(`relay to ${this.topic}: ${chunk.length} events are too large for one request; sending at most ${this.sendLimit} from now on`);
          await this.closeProducer();
          continue;
        }
        if (types.some((t) => SESSION_LOST.includes(t))) await this.closeProducer();
        if (types.some((t) => MISSING_TOPIC.includes(t))) this.topicReady = false;
        this.brokerDown(error);
        await this.pause(this.backoffMs(attempt++));
      }
    }
    this.brokerUp();
    await this.moveCheckpoint(to);
    this.published += messages.length;
    this.options.onPublished?.(messages.length);
  }

  private async moveCheckpoint(to: Position): Promise<void> {
    const result = await this.options.pool.query(
      'UPDATE cx_relay_checkpoints SET position = $4, updated_at = now() WHERE name = $1 AND topic = $2 AND position = $3',
      [this.name, this.topic, this.checkpoint.toString(), to.toString()],
    );
    if (result.rowCount !== 1) throw new RelayCheckpointFencedError(this.topic);
    this.checkpoint = to;
  }

  /** A connected producer and the topic, waiting with backoff while the broker is away. */
  private async connect(): Promise<void> {
    if (this.producer !== undefined && this.topicReady) return;
    for (let attempt = 0; this.producer === undefined || !this.topicReady; attempt++) {
      this.checkInterrupted();
      try {
        if (!this.topicReady) {
          await this.createTopic();
          this.topicReady = true;
        }
        if (!this.producer) {
          const producer = this.options.kafka.producer({
            idempotent: true,
            maxInFlightRequests: 1,
            // murmur2 of the key, as the Java client: other producers agree on a customer's partition.
            createPartitioner: Partitioners.DefaultPartitioner,
            allowAutoTopicCreation: false,
          });
          try {
            await producer.connect();
          } catch (error) {
            await producer.disconnect().catch(() => undefined);
            throw error;
          }
          this.producer = producer;
        }
      } catch (error) {
        this.brokerDown(error);
        await this.pause(this.backoffMs(attempt));
      }
    }
    this.brokerUp();
  }

  private async createTopic(): Promise<void> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: this.options.partitions ?? 6 }], waitForLeaders: true });
      if (created) this.logger.log(`created topic ${this.topic} with ${this.options.partitions ?? 6} partitions`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async closeProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** Logged once per outage, not per attempt. */
  private brokerDown(error: unknown): void {
    this.brokerConnected = false;
    this.lastError = messageOf(error);
    this.outageAttempts++;
    if (this.status === 'running' || this.status === 'starting') this.status = 'waiting-for-broker';
    if (this.outageSince !== undefined) return;
    this.outageSince = Date.now();
    this.logger.warn(`Kafka unavailable (${this.lastError}): publishing to ${this.topic} waits at position ${this.checkpoint} and retries until the broker is back`);
  }

  private brokerUp(): void {
    this.brokerConnected = true;
    if (this.status === 'waiting-for-broker') this.status = 'running';
    if (this.outageSince === undefined) return;
    const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
    this.logger.log(`Kafka available again after ${seconds} s and ${this.outageAttempts} attempts: publishing to ${this.topic} resumes at position ${this.checkpoint}`);
    this.outageSince = undefined;
    this.outageAttempts = 0;
    this.lastError = undefined;
  }

  private backoffMs(attempt: number): number {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 200, maxMs: 5_000 };
    return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
  }

  private checkInterrupted(): void {
    if (this.stopped || this.interrupted) throw new Interrupted();
  }

  /** A sleep that stop() and a lost lease cut short. */
  private pause(ms: number): Promise<void> {
    if (this.stopped || this.interrupted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private wake(): void {
    for (const sleeper of [...this.sleepers]) sleeper();
  }

  private async takeLease(): Promise<boolean> {
    if (this.leaseHeld) return true;
    if (this.options.lease === 'process') {
      let held = processLeases.get(this.options.pool);
      if (!held) processLeases.set(this.options.pool, (held = new Set()));
      if (held.has(this.leaseKey)) return false;
      held.add(this.leaseKey);
      this.leaseHeld = true;
      return true;
    }
    if (!this.leaseClient) {
      const client = await this.options.pool.connect();
      client.on('error', (error) => this.leaseLost(client, error));
      this.leaseClient = client;
    }
    const { rows } = await this.leaseClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LEASE_SPACE, streamLockKey(this.leaseKey)]);
    this.leaseHeld = rows[0].ok;
    return this.leaseHeld;
  }

  private async releaseLease(): Promise<void> {
    if (!this.leaseHeld) return;
    this.leaseHeld = false;
    if (this.options.lease === 'process') {
      processLeases.get(this.options.pool)?.delete(this.leaseKey);
      return;
    }
    await this.leaseClient?.query('SELECT pg_advisory_unlock($1, $2)', [LEASE_SPACE, streamLockKey(this.leaseKey)]).catch(() => undefined);
  }

  /** The connection holding the lease is gone, so is the lease: stop publishing and try to take it again. */
  private leaseLost(client: PoolClient, error: Error): void {
    if (client !== this.leaseClient) return;
    this.logger.error(`relay to ${this.topic}: the lease's connection failed (${error.message}); standing by`);
    this.leaseClient = undefined;
    this.leaseHeld = false;
    client.release(true);
    this.interrupted = true;
    this.wake();
    void this.subscription?.stop();
  }
}
