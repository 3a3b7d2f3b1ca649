import { migrate } from '@cx/event-store';
import { DATABASE, type Database } from '@cx/platform';
import { type DynamicModule, Global, Logger, Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard.js';
import { generateKeyIfNone, type GeneratedApiKey, loadActiveKeys } from './api-key.store.js';
import { ApiKeyVerifier } from './api-key.verifier.js';
import { type ApiKeysConfig, loadApiKeysConfig } from './api-keys.config.js';
import { apiKeyMigrations } from './api-keys.migrations.js';

export type StartApiKeysOptions = {
  /** Required for stored keys; with configured keys only used to keep the table's schema current. */
  pool?: Database['pool'];
  maxAgeMs?: number;
  missReloadMs?: number;
};

/**
 * Prepares verification. Configured keys are hashed in memory and the table is not consulted.
 * Otherwise the table's keys are used, and on first start one key with every scope is generated:
 * it is returned here, once, for the caller to show; only its hash was stored.
 */
export async function startApiKeys(
  config: ApiKeysConfig,
  options: StartApiKeysOptions = {},
): Promise<{ verifier: ApiKeyVerifier; generated?: GeneratedApiKey }> {
  const { pool } = options;
  if (pool) await migrate(pool, apiKeyMigrations);
  if (config.mode === 'configured') {
    return { verifier: ApiKeyVerifier.forKeys(config.keys.map(({ entry, key, scopes }) => ({ id: `CX_API_KEYS#${entry}`, key, scopes }))) };
  }
  if (!pool) throw new Error('API keys: without CX_API_KEYS the keys live in the database, and none was provided');
  const generated = await generateKeyIfNone(pool);
  const verifier = new ApiKeyVerifier(await loadActiveKeys(pool), {
    load: () => loadActiveKeys(pool),
    maxAgeMs: options.maxAgeMs,
    missReloadMs: options.missReloadMs,
  });
  return generated ? { verifier, generated } : { verifier };
}

/** The one time a generated key is shown. Plain text, not a log record, so it stands out and log shipping can filter it. */
export function generatedKeyNotice(generated: GeneratedApiKey): string {
  const rule = '-'.repeat(72);
  return [
    rule,
    `A new API key was generated with the scopes ${generated.scopes.join(', ')} (id ${generated.id}):`,
    '',
    `    ${generated.key}`,
    '',
    'Store it now: it will not be shown again. Only its hash is kept (table cx_api_keys).',
    'Send it as "Authorization: Bearer <key>" or "X-API-Key: <key>". Set CX_API_KEYS to use keys of your own.',
    rule,
    '',
  ].join('\n');
}

export type AuthModuleOptions = {
  /** Defaults to loadApiKeysConfig(process.env), read when forRoot is called so a bad CX_API_KEYS fails at once. */
  apiKeys?: ApiKeysConfig;
  /** Register ApiKeyGuard as APP_GUARD (default). With false, use `@UseGuards(ApiKeyGuard)` per controller. */
  globalGuard?: boolean;
  /** Where a generated key is shown; defaults to stdout. */
  announce?: (notice: string, generated: GeneratedApiKey) => void;
  maxAgeMs?: number;
  missReloadMs?: number;
};

/**
 * API-key authentication. Global, so ApiKeyGuard and ApiKeyVerifier resolve in every module.
 * Uses the platform's DATABASE when present (stored keys need it; configured keys do not).
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions = {}): DynamicModule {
    const config = options.apiKeys ?? loadApiKeysConfig();
    const announce = options.announce ?? ((notice: string) => process.stdout.write(notice));
    const providers: Provider[] = [
      {
        provide: ApiKeyVerifier,
        inject: [{ token: DATABASE, optional: true }],
        useFactory: async (database?: Database) => {
          const logger = new Logger('ApiKeys');
          if (config.mode === 'configured') for (const warning of config.warnings) logger.warn(warning);
          const { verifier, generated } = await startApiKeys(config, {
            pool: database?.pool,
            maxAgeMs: options.maxAgeMs,
            missReloadMs: options.missReloadMs,
          });
          if (generated) announce(generatedKeyNotice(generated), generated);
          logger.log(
            config.mode === 'configured'
              ? `${verifier.size} API key(s) from CX_API_KEYS`
              : `${verifier.size} active API key(s) in cx_api_keys${generated ? `, ${generated.id} generated now` : ''}`,
          );
          return verifier;
        },
      },
      ApiKeyGuard,
    ];
    if (options.globalGuard !== false) providers.push({ provide: APP_GUARD, useExisting: ApiKeyGuard });
    return { module: AuthModule, providers, exports: [ApiKeyVerifier, ApiKeyGuard] };
  }
}
