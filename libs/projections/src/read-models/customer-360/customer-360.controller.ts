import { RequireScopes } from '@cx/http';
import { DATABASE, type Database, PII_VAULT, type PiiVault } from '@cx/platform';
import { Controller, Get, HttpException, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import { ReadsProjections } from '../../read-your-writes.js';
import { CUSTOMER_360 } from './customer-360.projection.js';
import { parseCustomerListQuery, parseCustomerQuery } from './customer-360.query.js';
import { Customer360Reader, type CustomerPage, type CustomerView } from './customer-360.reader.js';

/** `GET /v1/customers` and `GET /v1/customers/{id}`: the 360-degree view of each customer. */
@Controller('v1/customers')
export class Customer360Controller {
  private readonly reader: Customer360Reader;

  constructor(@Inject(DATABASE) database: Database, @Inject(PII_VAULT) vault: PiiVault) {
    this.reader = new Customer360Reader(database.dataSource, vault);
  }

  @Get()
  @RequireScopes('read')
  @ReadsProjections(CUSTOMER_360)
  async list(@Query() raw: Record<string, unknown>): Promise<CustomerPage> {
    const parsed = parseCustomerListQuery(raw, new Date());
    if ('errors' in parsed) throw new HttpException({ status: 'rejected', errors: parsed.errors }, HttpStatus.BAD_REQUEST);
    return this.reader.page(parsed.query);
  }

  @Get(':id')
  @RequireScopes('read')
  @ReadsProjections(CUSTOMER_360)
  async one(@Param('id') id: string, @Query() raw: Record<string, unknown>): Promise<CustomerView> {
    const parsed = parseCustomerQuery(raw, new Date());
    if ('errors' in parsed) throw new HttpException({ status: 'rejected', errors: parsed.errors }, HttpStatus.BAD_REQUEST);
    const customer = await this.reader.one(id, parsed.asOf);
    if (!customer) {
      throw new HttpException(
        { status: 'not_found', errors: [{ field: 'id', message: `no customer ${JSON.stringify(id)}: no event names this customer` }] },
        HttpStatus.NOT_FOUND,
      );
    }
    return customer;
  }
}
