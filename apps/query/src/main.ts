import 'reflect-metadata';
import { runApp } from '@cx/http';
import { QueryAppModule } from './query-app.module.js';

runApp('query', (config) => QueryAppModule.forRoot(config));
