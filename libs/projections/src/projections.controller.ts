import { RequireScopes } from '@cx/http';
import { Controller, Get, Inject } from '@nestjs/common';
import { ProjectionRunner } from './projection-runner.js';

/** `GET /v1/projections`: each read model's version, checkpoint, lag and status. */
@Controller('v1/projections')
export class ProjectionsController {
  constructor(@Inject(ProjectionRunner) private readonly runner: ProjectionRunner) {}

  @Get()
  @RequireScopes('read')
  async list() {
    return { projections: await this.runner.states() };
  }
}
