import 'reflect-metadata';
import { configureHttp, JsonLogger } from '@cx/http';
import { loadConfig } from '@cx/platform';
import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const SHUTDOWN_DEADLINE_MS = 15_000;
const logger = new Logger('Bootstrap');

/** Stop taking requests, close every module (event store, database), then exit 0; exit 1 if that hangs. */
function closeOnSignals(app: INestApplication): void {
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

async function bootstrap(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const jsonLogger = new JsonLogger(config.logLevel);
  Logger.overrideLogger(jsonLogger);
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: jsonLogger, bodyParser: false });
  configureHttp(app, jsonLogger);
  closeOnSignals(app);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.log(`cx platform ready on http://localhost:${port} in ${Date.now() - started} ms`);
}

bootstrap().catch((error: unknown) => {
  // Before the JSON logger exists (a configuration error) this still prints one clear line.
  logger.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
