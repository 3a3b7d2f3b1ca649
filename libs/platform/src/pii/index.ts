export { loadMasterKey, type LoadMasterKeyOptions, MASTER_KEY_FILE, MasterKey, type MasterKeySource } from './master-key.js';
export { isSealed, SEALED_PREFIX } from './pii-format.js';
export { assertMasterKeyMatches, PiiVault, type PiiRecord, type PiiVaultOptions, type UnsealedRecord } from './pii-vault.js';
export { CustomerErasedError, MasterKeyError, MasterKeyMismatchError, PiiDecryptionError } from './pii.errors.js';
export { piiMigrations } from './pii.migrations.js';
