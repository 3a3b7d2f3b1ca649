import 'reflect-metadata';
import { runApp } from '@cx/http';
import { AppModule } from './app.module.js';

runApp('platform', (config) => AppModule.forRoot(config));
