import { ConfigError } from '../config.js';

/**
 * The master key is missing or malformed. A ConfigError, so startup reports it like any other
 * bad variable; `problem` tells a missing key on a real server from a malformed one.
 */
export class MasterKeyError extends ConfigError {
  constructor(
    readonly problem: 'required' | 'invalid',
    reason: string,
  ) {
    super('CX_MASTER_KEY', reason);
    this.name = 'MasterKeyError';
  }
}

/**
 * Data keys in the database were wrapped by another master key than this process's: without the
 * original key they cannot be opened. Names both fingerprints (never the keys).
 */
export class MasterKeyMismatchError extends Error {
  constructor(
    readonly storedKeyIds: readonly string[],
    readonly currentKeyId: string,
  ) {
    super(
      `the PII data keys in the database are wrapped by master key ${storedKeyIds.join(', ')}, ` +
        `but CX_MASTER_KEY here is ${currentKeyId}: start with the master key they were made with ` +
        `(embedded: restore the data folder's master.key)`,
    );
    this.name = 'MasterKeyMismatchError';
  }
}

/**
 * A sealed value or a wrapped data key that does not open: tampered with, truncated, or sealed for
 * another customer or field. Carries where, never what.
 */
export class PiiDecryptionError extends Error {
  constructor(
    readonly customerId: string,
    readonly field: string | undefined,
    reason: string,
  ) {
    super(`PII of customer ${JSON.stringify(customerId)}${field === undefined ? '' : ` field ${JSON.stringify(field)}`}: ${reason}`);
    this.name = 'PiiDecryptionError';
  }
}

/**
 * Sealing for a customer whose data key was erased. Erasure is final: the vault never makes a new
 * key for an erased customer, so their new events cannot carry readable personal data by accident.
 * Lists every erased customer of the batch, so a caller can reject those items and retry the rest.
 */
export class CustomerErasedError extends Error {
  constructor(readonly customerIds: readonly string[]) {
    super(
      customerIds.length === 1
        ? `customer ${JSON.stringify(customerIds[0])} was erased: their personal data can no longer be stored`
        : `${customerIds.length} customers were erased: their personal data can no longer be stored (${customerIds
            .slice(0, 10)
            .map((id) => JSON.stringify(id))
            .join(', ')}${customerIds.length > 10 ? ', ...' : ''})`,
    );
    this.name = 'CustomerErasedError';
  }
}
