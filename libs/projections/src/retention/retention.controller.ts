import { currentCorrelationId, RequireScopes } from '@cx/http';
import { DATABASE, type Database } from '@cx/platform';
import { Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ReadsProjections } from '../read-your-writes.js';
import { CUSTOMER_VALUE } from './customer-value.projection.js';
import { ReadModelBehindError } from './read-model.gate.js';
import { RETENTION_EPISODES } from './retention-episodes.projection.js';
import { type EpisodeView, listEpisodes, parseEpisodeQuery } from './retention.query.js';
import { TierJob, type TierRun } from './tier.job.js';

/** The tier job on demand, and the risk episodes with their alerts. */
@Controller('v1/retention')
export class RetentionController {
  constructor(
    @Inject(TierJob) private readonly tiers: TierJob,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  @Post('tiers/recompute')
  @RequireScopes('ops')
  @HttpCode(HttpStatus.OK)
  @ReadsProjections(CUSTOMER_VALUE)
  async recompute(@Res({ passthrough: true }) response: Response): Promise<TierRun> {
    try {
      const correlationId = currentCorrelationId();
      return await this.tiers.run(new Date(), correlationId ? { correlationId } : {});
    } catch (error) {
      if (!(error instanceof ReadModelBehindError)) throw error;
      response.setHeader('Retry-After', '1');
      throw new HttpException({ status: 'unavailable', errors: [{ field: 'customerValue', message: error.message }] }, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }

  @Get('episodes')
  @RequireScopes('read')
  @ReadsProjections(RETENTION_EPISODES)
  async episodes(@Query() raw: Record<string, unknown>): Promise<{ episodes: EpisodeView[] }> {
    const parsed = parseEpisodeQuery(raw);
    if ('errors' in parsed) throw new HttpException({ status: 'rejected', errors: parsed.errors }, HttpStatus.BAD_REQUEST);
    return { episodes: await listEpisodes(this.database.pool, parsed.query) };
  }
}
