import type { EventStore } from '@cx/event-store';
import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Database } from './database.js';
import { HealthRegistry } from './health.registry.js';
import { DATABASE, EVENT_STORE } from './platform.tokens.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(HealthRegistry) private readonly registry: HealthRegistry,
  ) {}

  /**
   * 200 while the event store answers, 503 otherwise, with what was checked. What the modules
   * add (projections, …) is reported too; a `degraded` part (a failed projection) keeps 200:
   * the app serves, but someone should look.
   */
  @Get('health')
  async health(@Res({ passthrough: true }) response: Response) {
    const [store, checks] = await Promise.all([this.store.status(), this.registry.run()]);
    const up = store.status === 'up' && Object.values(checks).every((check) => check.status !== 'down');
    const degraded = Object.values(checks).some((check) => check.status === 'degraded');
    response.status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: !up ? 'unavailable' : degraded ? 'degraded' : 'ok',
      database: this.database.kind,
      store,
      ...checks,
      uptimeSeconds: Math.round(process.uptime()),
    };
  }
}
