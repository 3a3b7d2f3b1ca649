import type { Migration } from '@cx/event-store';

/**
 * One data key per customer, wrapped by the master key. Erasure keeps the row as a tombstone
 * (no key, `erased_at` set) so that no new key is ever made for an erased customer.
 */
export const piiMigrations: Migration[] = [
  {
    id: '0100_pii_data_keys',
    sql: `
      CREATE TABLE cx_data_keys (
        customer_id    text        NOT NULL,
        wrapped_key    bytea,
        master_key_id  text        NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        erased_at      timestamptz,
        CONSTRAINT cx_data_keys_pkey PRIMARY KEY (customer_id),
        CONSTRAINT cx_data_keys_erased_check CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
      );
      CREATE INDEX cx_data_keys_master_key_id_idx ON cx_data_keys (master_key_id) WHERE wrapped_key IS NOT NULL;
      COMMENT ON TABLE cx_data_keys IS
        'Per-customer PII data keys, AES-256-GCM-wrapped by the master key (CX_MASTER_KEY). Erasing a customer nulls the key: their sealed values become unreadable everywhere.';
      COMMENT ON COLUMN cx_data_keys.master_key_id IS 'Fingerprint of the master key that wrapped the key, never the key.';
    `,
  },
];
