import { RequireScopes } from '@cx/http';
import { DATABASE, type Database } from '@cx/platform';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ReadsProjections } from '../../read-your-writes.js';
import { type FieldError, rejected } from '../satisfaction/query-params.js';
import { parseFunnelQuery, queryComplaintFunnel } from './complaint-funnel.query.js';

/** `GET /v1/funnels/complaints`: the complaint funnel and the silent dissatisfaction of a window. */
@Controller('v1/funnels/complaints')
export class ComplaintFunnelController {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  @Get()
  @RequireScopes('read')
  // Silent dissatisfaction is read from the satisfaction facts (rm_feedback, rm_moments).
  @ReadsProjections('complaints', 'satisfaction')
  async funnel(@Query() raw: Record<string, unknown>) {
    const errors: FieldError[] = [];
    const query = parseFunnelQuery(raw, new Date(), errors);
    if (errors.length > 0) rejected(errors);
    return queryComplaintFunnel(this.database.dataSource, query);
  }
}
