import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { KafkaConfig } from '@cx/platform';

export type KafkaLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>) => void;

/**
 * One kafkajs client for a process. kafkajs logs through the given function (the platform's JSON
 * logger in the apps), so broker trouble shows up in the same log as everything else.
 */
export function createKafka(config: KafkaConfig, log?: KafkaLog, clientIdSuffix?: string): Kafka {
  return new Kafka({
    clientId: clientIdSuffix ? `${config.clientId}-${clientIdSuffix}` : config.clientId,
    brokers: config.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // Retries are the caller's business (the relay waits and resumes); kafkajs' own stay short.
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 5 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return;
      const { message, ...fields } = entry.log;
      const level = entry.level === logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : entry.level === logLevel.INFO ? 'info' : 'debug';
      log(level, `kafka ${entry.namespace}: ${message}`, fields);
    },
  });
}
