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
