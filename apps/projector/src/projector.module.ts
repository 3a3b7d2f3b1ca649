import { observedPlatform } from '@cx/http';
import { RelayModule, relayMigrations } from '@cx/kafka';
import type { PlatformConfig } from '@cx/platform';
import { ProjectionsModule, readModelSchema } from '@cx/projections';
import { type DynamicModule, Module } from '@nestjs/common';

/** The projector: folds the log into the read models. Several can run; each projection is applied by one at a time. */
@Module({})
export class ProjectorModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [...observedPlatform(config, { ...readModelSchema, migrations: [...readModelSchema.migrations, ...relayMigrations] }, { personalData: false }), ProjectionsModule.forRoot({ run: true, serve: false }), RelayModule.forRoot(config)],
    };
  }
}
