import { type EventStore, openEventStoreDb, PostgresEventStore } from '@cx/event-store';
import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { PlatformConfig } from './config.js';
import { type Database, openDatabase, type SchemaParts } from './database.js';
import { HealthController } from './health.controller.js';
import { HealthRegistry } from './health.registry.js';
import { assertMasterKeyMatches, loadMasterKey, PiiVault } from './pii/index.js';
import { DATABASE, EVENT_STORE, PII_VAULT, PLATFORM_CONFIG, WRITE_ACTIVITY } from './platform.tokens.js';
import { WriteActivity } from './write-activity.js';


/** Closes what the platform opened, in reverse order, when Nest shuts down (SIGTERM, app.close()). */
@Injectable()
class PlatformLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Platform');

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    await this.store.close();
    await this.database.close();
    this.logger.log(`closed the event store and ${this.database.location}${signal ? ` on ${signal}` : ''}`);
  }
}

@Global()
@Module({})
export class PlatformModule {
  static forRoot(
    config: PlatformConfig,
    schema: SchemaParts = {},
    options: {
      decorateEventStore?: (store: EventStore) => EventStore;
      /** False for an app that never reads or writes personal data (the projector): it then needs no master key. */
      personalData?: boolean;
    } = {},
  ): DynamicModule {
    const personalData = options.personalData ?? true;
    const vault: Provider = {
      provide: PII_VAULT,
      inject: [DATABASE],
      useFactory: async (database: Database) => {
        const masterKey = loadMasterKey({ env: process.env, dataDir: config.dataDir, embedded: database.kind === 'embedded' });
        await assertMasterKeyMatches(database.pool, masterKey);
        const logger = new Logger('Platform');
        logger.log(`master key: ${masterKey.describe()}`);
        if (masterKey.created) {
          logger.warn(`a new master key was generated: back up ${masterKey.file}; without it personal data cannot be read`);
        }
        return new PiiVault({ pool: database.pool, masterKey });
      },
    };
    return {
      module: PlatformModule,
      controllers: [HealthController],
      providers: [
        { provide: PLATFORM_CONFIG, useValue: config },
        {
          provide: DATABASE,
          useFactory: async () => {
            const database = await openDatabase(config, schema);
            new Logger('Platform').log(`database: ${database.location}`);
            return database;
          },
        },
        {
          provide: EVENT_STORE,
          inject: [DATABASE],
          useFactory: (database: Database) => {
            // EVENTSTOREDB_URL set: the log lives in EventStoreDB; the database keeps the read models, keys and checkpoints.
            const store = config.eventStoreDbUrl
              ? openEventStoreDb(config.eventStoreDbUrl)
              : new PostgresEventStore({
                  pool: database.pool,
                  notifications: database.kind === 'postgres' ? 'listen' : 'local',
                  adapterName: database.kind === 'postgres' ? 'postgres' : 'postgres (embedded PGlite)',
                });
            return options.decorateEventStore?.(store) ?? store;
          },
        },
        ...(personalData ? [vault] : []),
        { provide: WRITE_ACTIVITY, useFactory: () => new WriteActivity() },
        PlatformLifecycle,
        HealthRegistry,
      ],
      exports: [PLATFORM_CONFIG, DATABASE, EVENT_STORE, ...(personalData ? [PII_VAULT] : []), WRITE_ACTIVITY, HealthRegistry],
    };
  }
}
