import { RequireScopes } from '@cx/http';
import { DATABASE, type Database, PII_VAULT, type PiiVault } from '@cx/platform';
import { Controller, Get, HttpException, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import { ReadsProjections } from '../../read-your-writes.js';
import { customerIdError, parseJourneyQuery } from './journey.query.js';
import { type JourneyPage, JourneyReader } from './journey.reader.js';
import { type JourneyReplayPage, JourneyReplayer } from './journey.replay.js';

/**
 * `GET /v1/customers/{id}/journey`: every event of a customer, in log order, personal data opened.
 * With `asOf` (a log position or an instant), a replay from the log itself: the events known then,
 * what each changed, and the customer's state as of that point.
 */
@Controller('v1/customers')
export class JourneyController {
  private readonly reader: JourneyReader;
  private readonly replayer: JourneyReplayer;

  constructor(@Inject(DATABASE) database: Database, @Inject(PII_VAULT) vault: PiiVault) {
    this.reader = new JourneyReader(database.pool, vault);
    this.replayer = new JourneyReplayer(database.pool, vault);
  }

  @Get(':id/journey')
  @RequireScopes('read')
  @ReadsProjections('journey')
  async journey(@Param('id') id: string, @Query() raw: Record<string, unknown>): Promise<JourneyPage | JourneyReplayPage> {
    const parsed = parseJourneyQuery(raw);
    const errors = [...[customerIdError(id)].filter((e) => e !== undefined), ...('errors' in parsed ? parsed.errors : [])];
    if (errors.length > 0 || 'errors' in parsed) {
      throw new HttpException({ status: 'rejected', errors }, HttpStatus.BAD_REQUEST);
    }
    const { asOf } = parsed.query;
    const page = asOf ? await this.replayer.replay(id, { ...parsed.query, asOf }) : await this.reader.page(id, parsed.query);
    if (!page) {
      throw new HttpException({ status: 'not_found', errors: [{ field: 'id', message: asOf ? `no customer ${id} in the event log: no event names this customer` : `no customer ${id} in the journey: no event names this customer` }] }, HttpStatus.NOT_FOUND);
    }
    return page;
  }
}
