import { RequireScopes } from '@cx/http';
import { DATABASE, type Database, PII_VAULT, type PiiVault } from '@cx/platform';
import { Controller, Get, HttpException, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import { ReadsProjections } from '../../read-your-writes.js';
import { customerIdError, parseJourneyQuery } from './journey.query.js';
import { type JourneyPage, JourneyReader } from './journey.reader.js';

/** `GET /v1/customers/{id}/journey`: every event of a customer, in log order, personal data opened. */
@Controller('v1/customers')
export class JourneyController {
  private readonly reader: JourneyReader;

  constructor(@Inject(DATABASE) database: Database, @Inject(PII_VAULT) vault: PiiVault) {
    this.reader = new JourneyReader(database.pool, vault);
  }

  @Get(':id/journey')
  @RequireScopes('read')
  @ReadsProjections('journey')
  async journey(@Param('id') id: string, @Query() raw: Record<string, unknown>): Promise<JourneyPage> {
    const parsed = parseJourneyQuery(raw);
    const errors = [...[customerIdError(id)].filter((e) => e !== undefined), ...('errors' in parsed ? parsed.errors : [])];
    if (errors.length > 0 || 'errors' in parsed) {
      throw new HttpException({ status: 'rejected', errors }, HttpStatus.BAD_REQUEST);
    }
    const page = await this.reader.page(id, parsed.query);
    if (!page) {
      throw new HttpException({ status: 'not_found', errors: [{ field: 'id', message: `no customer ${id} in the journey: no event names this customer` }] }, HttpStatus.NOT_FOUND);
    }
    return page;
  }
}
