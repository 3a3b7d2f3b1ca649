import { loadConfig, type PlatformConfig } from '@cx/platform';
import { type DynamicModule, type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { configureHttp } from './http-setup.js';
import { JsonLogger } from './json-logger.js';

const SHUTDOWN_DEADLINE_MS = 15_000;

/** Stop taking requests, close every module (event store, database), then exit 0; exit 1 if that hangs. */
function closeOnSignals(app: INestApplication, logger: Logger): void {
  let closing = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received, shutting down`);
    setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      logger.error(`shutdown failed: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/**
 * Every app's main: configuration from the environment, JSON logs, the HTTP edge, clean
 * shutdown on SIGTERM/SIGINT. `name` goes into the ready line: `cx <name> ready on http://…`.
 */
export function runApp(name: string, root: (config: PlatformConfig) => DynamicModule): void {
  const logger = new Logger('Bootstrap');
  const bootstrap = async () => {
    const started = Date.now();
    const config = loadConfig();
    const jsonLogger = new JsonLogger(config.logLevel);
    Logger.overrideLogger(jsonLogger);
    const app = await NestFactory.create(root(config), { logger: jsonLogger, bodyParser: false });
    app.getHttpAdapter().getInstance().disable('x-powered-by');
    configureHttp(app, jsonLogger);
    closeOnSignals(app, logger);
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.log(`cx ${name} ready on http://localhost:${port} in ${Date.now() - started} ms`);
  };
  bootstrap().catch((error: unknown) => {
    // Before the JSON logger exists (a configuration error) this still prints one clear line.
    logger.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
