import type { EventStore } from '@cx/event-store';
import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Database } from './database.js';
import { DATABASE, EVENT_STORE } from './platform.tokens.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  /** 200 while the event store answers, 503 otherwise, with what was checked. */
  @Get('health')
  async health(@Res({ passthrough: true }) response: Response) {
    const store = await this.store.status();
    const up = store.status === 'up';
    response.status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: up ? 'ok' : 'unavailable',
      database: this.database.kind,
      store,
      uptimeSeconds: Math.round(process.uptime()),
    };
  }
}
