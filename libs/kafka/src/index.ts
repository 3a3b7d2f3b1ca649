export { createKafka, type KafkaLog } from './kafka-client.js';
