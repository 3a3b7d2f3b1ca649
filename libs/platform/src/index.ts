export { ConfigError, type KafkaConfig, loadConfig, type PlatformConfig, redactUrl } from './config.js';
export { type Database, openDatabase, platformMigrations, type SchemaParts, SESSION_RANDOM_PAGE_COST } from './database.js';
export { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.js';
export { type HealthCheckResult, HealthRegistry } from './health.registry.js';
export { PlatformModule } from './platform.module.js';
export * from './pii/index.js';
export { DATABASE, EVENT_STORE, PII_VAULT, PLATFORM_CONFIG, WRITE_ACTIVITY } from './platform.tokens.js';
export { WriteActivity } from './write-activity.js';
