import { RequireScopes } from '@cx/http';
import { Body, Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Post } from '@nestjs/common';
import { NotFailedError, ProjectionRunner, UnknownProjectionError } from './projection-runner.js';
import { progressOf, RebuildConflictError, type RebuildRow } from './rebuild-requests.js';

const rebuildsOf = (rows: readonly RebuildRow[]) => ({ rebuilds: rows.map((row) => ({ projection: row.projection, ...progressOf(row) })) });

/** The runner's typed errors as the API's 4xx answers; nothing was changed when they are thrown. */
function answer(error: unknown, field: string): never {
  if (error instanceof UnknownProjectionError) {
    throw new HttpException({ status: 'not_found', errors: [{ field, message: error.message }], known: error.known }, HttpStatus.NOT_FOUND);
  }
  if (error instanceof RebuildConflictError || error instanceof NotFailedError) {
    throw new HttpException({ status: 'conflict', errors: [{ field, message: error.message }] }, HttpStatus.CONFLICT);
  }
  throw error;
}

/**
 * `GET /v1/projections`: each read model's version, checkpoint, lag, status and rebuilds.
 * `POST /v1/projections/{name}/rebuild` (and `/v1/projections/rebuild` for several in one pass):
 * a blue/green rebuild, run by the process that holds the projection's lease; progress in the list.
 * `POST /v1/projections/{name}/retry`: a failed projection starts again from the event that failed.
 */
@Controller('v1/projections')
export class ProjectionsController {
  constructor(@Inject(ProjectionRunner) private readonly runner: ProjectionRunner) {}

  @Get()
  @RequireScopes('read')
  async list() {
    return { projections: await this.runner.states() };
  }

  @Post('rebuild')
  @RequireScopes('ops')
  @HttpCode(HttpStatus.ACCEPTED)
  async rebuildSeveral(@Body() body: unknown) {
    const names = this.runner.projections.map((p) => p.name);
    let wanted: string[] = names;
    if (body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body).length === 0)) {
      const list = typeof body === 'object' && !Array.isArray(body) ? (body as { projections?: unknown }).projections : undefined;
      const extra = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body).filter((k) => k !== 'projections') : [];
      if (extra.length > 0 || !Array.isArray(list) || list.length === 0 || !list.every((n) => typeof n === 'string')) {
        throw new HttpException(
          { status: 'rejected', errors: [{ field: 'projections', message: `must be a non-empty array of projection names (leave the body out for all of them: ${names.join(', ')})` }] },
          HttpStatus.BAD_REQUEST,
        );
      }
      wanted = list as string[];
    }
    try {
      return rebuildsOf(await this.runner.requestRebuild(wanted));
    } catch (error) {
      answer(error, 'projections');
    }
  }

  @Post(':name/rebuild')
  @RequireScopes('ops')
  @HttpCode(HttpStatus.ACCEPTED)
  async rebuild(@Param('name') name: string) {
    try {
      return rebuildsOf(await this.runner.requestRebuild([name]));
    } catch (error) {
      answer(error, 'name');
    }
  }

  @Post(':name/retry')
  @RequireScopes('ops')
  @HttpCode(HttpStatus.ACCEPTED)
  async retry(@Param('name') name: string) {
    try {
      return { projection: name, ...(await this.runner.requestRetry(name)) };
    } catch (error) {
      answer(error, 'name');
    }
  }
}
