export * from './event-store.js';
export { EVENT_TYPE, findNonJson, MAX_BATCH } from './append-validation.js';
export { followLog } from './follow-log.js';
export { migrate, type Migration } from './migrations.js';
export { eventStoreMigrations } from './postgres/event-store.migrations.js';
export { CUSTOMER_TIMELINE_MAX_LIMIT, type CustomerTimelineOptions, customerInLog, logReachedAt, readCustomerTimeline } from './postgres/customer-timeline.js';
export { PostgresEventStore, type PostgresEventStoreOptions, streamLockKey } from './postgres/postgres-event-store.js';
export { nameBasedUuid, storedEventId } from './name-based-uuid.js';
