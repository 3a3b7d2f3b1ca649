import { RequireScopes } from '@cx/http';
import { DATABASE, type Database } from '@cx/platform';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ReadsProjections } from '../../read-your-writes.js';
import { type FieldError, rejected } from './query-params.js';
import { parseSatisfactionQuery, querySatisfaction } from './satisfaction.query.js';

/** `GET /v1/metrics/satisfaction`: NPS, CSAT, CES and waits per time bucket and group. */
@Controller('v1/metrics/satisfaction')
export class SatisfactionController {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  @Get()
  @RequireScopes('read')
  @ReadsProjections('satisfaction')
  async metrics(@Query() raw: Record<string, unknown>) {
    const errors: FieldError[] = [];
    const query = parseSatisfactionQuery(raw, new Date(), errors);
    if (errors.length > 0) rejected(errors);
    const rows = await querySatisfaction(this.database.dataSource, query);
    return { from: query.from.toISOString(), to: query.to.toISOString(), interval: query.interval, groupBy: query.groupBy, rows };
  }
}
