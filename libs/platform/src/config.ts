/** Configuration comes from the environment only; this is the one place that reads it. */
export type PlatformConfig = {
  port: number;
  host: string;
  /** A real PostgreSQL server. Unset: the embedded PGlite database. */
  databaseUrl?: string;
  /** Where the embedded database keeps its files; 'memory' keeps nothing on disk. */
  dataDir: string;
  dbPoolSize: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Moment kinds beyond the eight built-in ones, from CX_MOMENT_KINDS: configuration, not code. */
  momentKinds: string[];
  /** Events a projection folds per transaction. */
  projectionBatchSize: number;
  /**
   * Ingest first (CX_PROJECTION_DEFER_MS, CX_PROJECTION_DEFER_EVENTS): while this process is
   * ingesting, its live projections hold batches back for at most `maxMs` in a stretch and never
   * when `maxEvents` or more behind, then fold until caught up. maxMs 0: they never defer.
   */
  projectionDefer: { maxMs: number; maxEvents: number };
  /** Kafka, from KAFKA_BROKERS (host:port, comma-separated). Unset: no relay, no ingest topic. */
  kafka?: KafkaConfig;
  /** EventStoreDB connection string, from EVENTSTOREDB_URL. Set: the event store is EventStoreDB. */
  eventStoreDbUrl?: string;
  /** What the projector app folds (CX_PROJECTOR_SOURCE): the log (default), or the events topic in a consumer group (needs KAFKA_BROKERS). */
  projectorSource?: 'log' | 'kafka';
};

export type KafkaConfig = {
  brokers: string[];
  clientId: string;
  /** Every stored event is published here (CX_KAFKA_EVENTS_TOPIC, default cx.events). */
  eventsTopic: string;
  /** Channel systems may send CloudEvents here instead of HTTP (CX_KAFKA_INGEST_TOPIC, default cx.ingest). */
  ingestTopic: string;
  /** Invalid ingest messages land here with the reason (CX_KAFKA_DLQ_TOPIC, default cx.ingest.dlq). */
  deadLetterTopic: string;
  /** Consumer group of the ingest topic's consumers (CX_KAFKA_INGEST_GROUP, default cx-ingest). */
  ingestGroupId?: string;
  /** Consumer group of projectors folding the events topic (CX_KAFKA_PROJECTOR_GROUP, default cx-projector). */
  projectorGroupId?: string;
  /** Partitions of the events topic when the relay creates it (CX_KAFKA_PARTITIONS, default 6). */
  partitions?: number;
  /** Events the relay sends to the broker per request (CX_KAFKA_RELAY_BATCH_SIZE, default 500). */
  relayBatchSize?: number;
};

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  const logLevel = (env.LOG_LEVEL || 'info') as PlatformConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be debug, info, warn or error, got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    dataDir: env.CX_DATA_DIR || './.cx-data',
    dbPoolSize: integer(env, 'CX_DB_POOL_SIZE', 10, 1, 1000),
    logLevel,
    projectionBatchSize: integer(env, 'CX_PROJECTION_BATCH_SIZE', 1000, 1, 10_000),
    projectionDefer: {
      maxMs: integer(env, 'CX_PROJECTION_DEFER_MS', 10_000, 0, 600_000),
      maxEvents: integer(env, 'CX_PROJECTION_DEFER_EVENTS', 250_000, 0, 100_000_000),
    },
    kafka: loadKafkaConfig(env),
    projectorSource: projectorSource(env),
    eventStoreDbUrl: eventStoreDbUrl(env),
    momentKinds: (env.CX_MOMENT_KINDS ?? '')
      .split(',')
      .map((kind) => kind.trim())
      .filter((kind) => kind.length > 0),
  };
}

function projectorSource(env: NodeJS.ProcessEnv): 'log' | 'kafka' {
  const source = env.CX_PROJECTOR_SOURCE?.trim() || 'log';
  if (source !== 'log' && source !== 'kafka') throw new ConfigError('CX_PROJECTOR_SOURCE', `must be log or kafka, got ${JSON.stringify(source)}`);
  if (source === 'kafka' && !env.KAFKA_BROKERS?.trim()) throw new ConfigError('CX_PROJECTOR_SOURCE', 'kafka needs KAFKA_BROKERS');
  return source;
}

function eventStoreDbUrl(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.EVENTSTOREDB_URL?.trim() || undefined;
  if (url && !/^esdb(\+discover)?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError('EVENTSTOREDB_URL', 'must be an esdb:// or esdb+discover:// connection string, e.g. esdb://localhost:2113?tls=false');
  }
  return url;
}

function loadKafkaConfig(env: NodeJS.ProcessEnv): KafkaConfig | undefined {
  const raw = env.KAFKA_BROKERS?.trim();
  if (!raw) return undefined;
  const brokers = raw.split(',').map((broker) => broker.trim()).filter((broker) => broker.length > 0);
  for (const broker of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError('KAFKA_BROKERS', `each broker must be host:port, got ${JSON.stringify(broker)}`);
    }
  }
  const topic = (name: string, fallback: string): string => {
    const value = env[name]?.trim() || fallback;
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(value)) {
      throw new ConfigError(name, `must be a Kafka topic name (letters, digits, '.', '_', '-'), got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const group = (name: string, fallback: string): string => {
    const value = env[name]?.trim() || fallback;
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(value)) throw new ConfigError(name, `must be a consumer group id (letters, digits, '.', '_', '-'), got ${JSON.stringify(value)}`);
    return value;
  };
  return {
    brokers,
    clientId: env.CX_KAFKA_CLIENT_ID?.trim() || 'cx-platform',
    eventsTopic: topic('CX_KAFKA_EVENTS_TOPIC', 'cx.events'),
    ingestTopic: topic('CX_KAFKA_INGEST_TOPIC', 'cx.ingest'),
    deadLetterTopic: topic('CX_KAFKA_DLQ_TOPIC', 'cx.ingest.dlq'),
    ingestGroupId: group('CX_KAFKA_INGEST_GROUP', 'cx-ingest'),
    projectorGroupId: group('CX_KAFKA_PROJECTOR_GROUP', 'cx-projector'),
    partitions: integer(env, 'CX_KAFKA_PARTITIONS', 6, 1, 1000),
    relayBatchSize: integer(env, 'CX_KAFKA_RELAY_BATCH_SIZE', 500, 1, 10_000),
  };
}

/** A connection string safe to print: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}
