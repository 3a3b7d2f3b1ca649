/** Injection tokens of what the platform module provides. */
export const PLATFORM_CONFIG = Symbol('PlatformConfig');
export const DATABASE = Symbol('Database');
export const EVENT_STORE = Symbol('EventStore');
export const PII_VAULT = Symbol('PiiVault');
/** The process's WriteActivity: ingest reports its calls, background work steps aside. */
export const WRITE_ACTIVITY = Symbol('WriteActivity');
