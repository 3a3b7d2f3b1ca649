export { ApiKeyGuard, type AuthenticatedRequest, presentedKey, principalOf, RequireScopes } from './auth/api-key.guard.js';
export { generateKeyIfNone, type GeneratedApiKey, loadActiveKeys, newApiKey, revokeApiKey } from './auth/api-key.store.js';
export {
  type ApiKeyPrincipal,
  ApiKeyVerifier,
  type ApiKeyVerifierOptions,
  digestApiKey,
  type KnownApiKey,
  matchDigest,
  storedHashOf,
} from './auth/api-key.verifier.js';
export {
  API_SCOPES,
  type ApiKeysConfig,
  ApiKeysConfigError,
  type ApiScope,
  type ConfiguredApiKey,
  isApiScope,
  loadApiKeysConfig,
  MIN_RECOMMENDED_KEY_LENGTH,
  parseApiKeys,
} from './auth/api-keys.config.js';
export { apiKeyMigrations } from './auth/api-keys.migrations.js';
export { type AuthModuleOptions, AuthModule, generatedKeyNotice, startApiKeys, type StartApiKeysOptions } from './auth/auth.module.js';
export { correlationFrom, correlationMiddleware, currentCorrelationId } from './correlation.js';
export { configureHttp, JSON_TYPES, MAX_BODY_BYTES } from './http-setup.js';
export { JsonLogger, type JsonLogLevel } from './json-logger.js';
export { DOCS_ASSETS_PATH, OpenApiController, OpenApiModule } from './openapi/openapi.controller.js';
export { DOCS_PATH, OPENAPI_PATH, type OpenApiDocument, openApiDocument, type OpenApiOptions } from './openapi/openapi.document.js';
export * from './metrics/index.js';
export { observedPlatform } from './observed-platform.js';
export { runApp } from './run-app.js';
