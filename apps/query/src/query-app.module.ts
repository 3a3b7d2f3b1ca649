import { AuthModule, OpenApiModule, observedPlatform } from '@cx/http';
import type { PlatformConfig } from '@cx/platform';
import { ProjectionsModule, readModelSchema } from '@cx/projections';
import { type DynamicModule, Module } from '@nestjs/common';

/** The query and ops app: the read models over HTTP, for analysts and ops teams. Folds nothing itself. */
@Module({})
export class QueryAppModule {
  static forRoot(config: PlatformConfig): DynamicModule {
    return {
      module: QueryAppModule,
      imports: [...observedPlatform(config, readModelSchema), AuthModule.forRoot(), ProjectionsModule.forRoot({ run: false, serve: true }), OpenApiModule],
    };
  }
}
