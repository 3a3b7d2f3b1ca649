import { observedPlatform } from '@cx/http';
import type { PlatformConfig } from '@cx/platform';
import { ProjectionsModule, readModelSchema } from '@cx/projections';
import { type DynamicModule, Module } from '@nestjs/common';

/** The projector: folds the log into the read models. Several can run; each projection is applied by one at a time. */
@Module({})
export class ProjectorModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [...observedPlatform(config, readModelSchema, { personalData: false }), ProjectionsModule.forRoot({ run: true, serve: false })],
    };
  }
}
