import { ConfigError } from '@cx/platform';

export const API_SCOPES = ['ingest', 'read', 'ops'] as const;
/** What a key may do: `ingest` sends events, `read` queries, `ops` operates the platform. */
export type ApiScope = (typeof API_SCOPES)[number];

export function isApiScope(value: string): value is ApiScope {
  return (API_SCOPES as readonly string[]).includes(value);
}

/** One `key:scope+scope` entry of CX_API_KEYS. `entry` is 1-based, as in error messages. */
export type ConfiguredApiKey = { entry: number; key: string; scopes: ApiScope[] };

/**
 * `configured`: exactly the keys of CX_API_KEYS, the table is not consulted.
 * `stored`: the keys in `cx_api_keys`, one generated with every scope on first start.
 */
export type ApiKeysConfig =
  | { mode: 'configured'; keys: ConfiguredApiKey[]; warnings: string[] }
  | { mode: 'stored' };

const VARIABLE = 'CX_API_KEYS';
/** Shorter configured keys are accepted (tests and the example use `k1`) but warned about. */
export const MIN_RECOMMENDED_KEY_LENGTH = 16;
/**
 * RFC 6750 b64token: what fits in `Authorization: Bearer` unquoted. Anything else could never be
 * sent, and rejecting `:` also keeps a mis-split entry from leaking key text into a scope message.
 */
const KEY_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A CX_API_KEYS problem. Names the entry by position and never contains the key. */
export class ApiKeysConfigError extends ConfigError {
  constructor(
    readonly entry: number | undefined,
    reason: string,
  ) {
    super(VARIABLE, entry === undefined ? reason : `entry ${entry}: ${reason}`);
    this.name = 'ApiKeysConfigError';
  }
}

/**
 * Parses `key:scope+scope,key:scope`. Strict: an empty entry, an empty or malformed key, a key
 * listed twice, a missing, unknown or repeated scope all fail startup rather than silently
 * leaving a client without access (or with more than meant).
 */
export function parseApiKeys(raw: string): { keys: ConfiguredApiKey[]; warnings: string[] } {
  const keys: ConfiguredApiKey[] = [];
  const warnings: string[] = [];
  const firstEntryOf = new Map<string, number>();
  const entries = raw.split(',');
  entries.forEach((text, index) => {
    const entry = index + 1;
    const trimmed = text.trim();
    if (trimmed === '') throw new ApiKeysConfigError(entry, 'is empty; write key:scope+scope');
    const colon = trimmed.lastIndexOf(':');
    if (colon === -1) throw new ApiKeysConfigError(entry, `has no scopes; write key:scope+scope with scopes ${API_SCOPES.join(', ')}`);
    const key = trimmed.slice(0, colon).trim();
    const scopeText = trimmed.slice(colon + 1).trim();
    if (key === '') throw new ApiKeysConfigError(entry, 'has an empty key');
    if (!KEY_SYNTAX.test(key)) {
      throw new ApiKeysConfigError(entry, 'the key may only contain letters, digits and - . _ ~ + / (and trailing =)');
    }
    if (scopeText === '') throw new ApiKeysConfigError(entry, `has no scopes; list one or more of ${API_SCOPES.join(', ')} joined by +`);
    const scopes: ApiScope[] = [];
    const parts = scopeText.split('+');
    parts.forEach((part, position) => {
      const scope = part.trim();
      // The unknown text itself is not echoed: with the order mistaken (scope:key) it is the key.
      if (!isApiScope(scope)) {
        throw new ApiKeysConfigError(entry, `scope ${position + 1} of ${parts.length} is not one of ${API_SCOPES.join(', ')}`);
      }
      if (scopes.includes(scope)) throw new ApiKeysConfigError(entry, `lists the scope ${scope} twice`);
      scopes.push(scope);
    });
    const earlier = firstEntryOf.get(key);
    if (earlier !== undefined) throw new ApiKeysConfigError(entry, `repeats the key of entry ${earlier}`);
    firstEntryOf.set(key, entry);
    if (key.length < MIN_RECOMMENDED_KEY_LENGTH) {
      warnings.push(
        `${VARIABLE} entry ${entry}: the key is shorter than ${MIN_RECOMMENDED_KEY_LENGTH} characters and easy to guess; ` +
          'use a long random one (for example `openssl rand -hex 32`)',
      );
    }
    keys.push({ entry, key, scopes });
  });
  return { keys, warnings };
}

/** Unset or empty CX_API_KEYS selects the stored keys; anything else must parse. */
export function loadApiKeysConfig(env: NodeJS.ProcessEnv = process.env): ApiKeysConfig {
  const raw = env[VARIABLE];
  if (raw === undefined || raw === '') return { mode: 'stored' };
  return { mode: 'configured', ...parseApiKeys(raw) };
}
