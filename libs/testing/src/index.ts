export { type AppProcess, startApp } from './app-process.js';
export { lastCommittedPosition, openTestDatabase, type TestDatabase, testBackend } from './test-database.js';
export { type CloudEventJson, generateJourneys, type JourneyOptions } from './journeys.js';
export { startTestApp, type TestApp } from './test-app.js';
export { describeWithKafka, testKafkaBrokers, uniqueTopic } from './kafka.js';
