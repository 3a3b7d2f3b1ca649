export { createKafka, type KafkaLog } from './kafka-client.js';
export {
  customerIdOf,
  fromKafkaMessage,
  InvalidEventMessageError,
  type KafkaEventMessage,
  PLATFORM_SOURCE,
  publicTypeOf,
  toKafkaMessage,
} from './event-message.js';
export { KafkaRelay, type KafkaRelayOptions, RelayCheckpointFencedError, type RelayState, type RelayStatus } from './relay.js';
export { relayMigrations } from './relay.migrations.js';
export { RelayModule } from './relay.module.js';
export { decodeIngestMessage, type DeadLetterReason, KafkaIngestConsumer, type KafkaIngestOptions, type KafkaIngestState } from './kafka-ingest.js';
export { KafkaIngestModule } from './kafka-ingest.module.js';
export { kafkaConsumerMigrations } from './consumer.migrations.js';
export {
  type KafkaPartitionState,
  KafkaProjector,
  type KafkaProjectorOptions,
  type KafkaProjectorState,
  ProjectionVersionsChangedError,
} from './kafka-projector.js';
export { KafkaProjectorModule } from './kafka-projector.module.js';
