import { createKafka } from './kafka-client.js';
import { describeWithKafka, testKafkaBrokers, uniqueTopic } from '@cx/testing';

describe('the Kafka broker of the test run', () => {
  it('is configured whenever the run expects one', () => {
    if (process.env.CX_EXPECT_KAFKA) expect(testKafkaBrokers?.length ?? 0).toBeGreaterThan(0);
    else expect(process.env.CX_EXPECT_KAFKA).toBeUndefined();
  });
});

describeWithKafka('a real Kafka broker', () => {
  it('takes a message and gives it back to a consumer', async () => {
    const kafka = createKafka({
      brokers: testKafkaBrokers!,
      clientId: 'cx-test',
      eventsTopic: 'unused',
      ingestTopic: 'unused',
      deadLetterTopic: 'unused',
    });
    const topic = uniqueTopic('cx.smoke');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'customer-1', value: 'hello', headers: { ce_id: 'e-1' } }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${topic}.group` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: string; ceId: string }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) =>
          resolve({ key: String(message.key), value: String(message.value), ceId: String(message.headers?.ce_id) }),
      });
    });
    await consumer.disconnect();
    expect(received).toEqual({ key: 'customer-1', value: 'hello', ceId: 'e-1' });
  });
});
