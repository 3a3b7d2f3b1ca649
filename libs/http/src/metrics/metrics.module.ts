import {
  Controller,
  type DynamicModule,
  Global,
  Inject,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
  RequestMethod,
} from '@nestjs/common';
import { RequireScopes } from '../auth/api-key.guard.js';
import type { ApiScope } from '../auth/api-keys.config.js';
import { httpMetricsMiddleware } from './http-metrics.middleware.js';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.service.js';

export type MetricsModuleOptions = {
  /**
   * The registry to serve. Pass one created beforehand when something outside Nest's injection
   * records into it too (the event store wrapper given to PlatformModule). Default: a new one.
   */
  metrics?: Metrics;
  /**
   * Scope an API key needs for `GET /metrics`. Default none: public, as Prometheus scrapers
   * usually carry no key. The metrics hold no personal data and no ids.
   */
  requireScope?: ApiScope;
  /** Time every HTTP request (default true). */
  httpDurations?: boolean;
};

/** A subclass carrying the scope, so the public controller's metadata stays as it is. */
function protectedController(scope: ApiScope): typeof MetricsController {
  @Controller()
  @RequireScopes(scope)
  class ProtectedMetricsController extends MetricsController {}
  return ProtectedMetricsController;
}

const OPTIONS = Symbol('MetricsModuleOptions');

/**
 * Prometheus metrics: the `Metrics` registry (global, so any module can inject it), `GET /metrics`,
 * and the HTTP duration middleware on every route.
 */
@Global()
@Module({})
export class MetricsModule implements NestModule, OnApplicationShutdown {
  constructor(
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(OPTIONS) private readonly options: MetricsModuleOptions,
  ) {}

  static forRoot(options: MetricsModuleOptions = {}): DynamicModule {
    const logger = new Logger('Metrics');
    const metrics =
      options.metrics ?? new Metrics({ onCollectError: (metric, error) => logger.warn(`collecting ${metric} failed: ${(error as Error).message}`) });
    return {
      module: MetricsModule,
      controllers: [options.requireScope ? protectedController(options.requireScope) : MetricsController],
      providers: [
        { provide: Metrics, useValue: metrics },
        { provide: OPTIONS, useValue: options },
      ],
      exports: [Metrics],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    if (this.options.httpDurations === false) return;
    consumer.apply(httpMetricsMiddleware(this.metrics)).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }

  onApplicationShutdown(): void {
    this.metrics.close();
  }
}
