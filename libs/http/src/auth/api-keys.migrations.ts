import type { Migration } from '@cx/event-store';

/** Stored API keys: only a hash of each key, never the key. */
export const apiKeyMigrations: Migration[] = [
  {
    id: '0200_api_keys',
    sql: `
      CREATE TABLE cx_api_keys (
        id          text        PRIMARY KEY,
        key_hash    text        NOT NULL UNIQUE,
        scopes      text[]      NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
      );
      COMMENT ON TABLE cx_api_keys IS 'API keys by hash (sha256:<hex> of the key). Revoke by setting revoked_at.';
    `,
  },
];
