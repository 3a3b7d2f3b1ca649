import 'reflect-metadata';
import { runApp } from '@cx/http';
import { IngestAppModule } from './ingest-app.module.js';

runApp('ingest', (config) => IngestAppModule.forRoot(config));
