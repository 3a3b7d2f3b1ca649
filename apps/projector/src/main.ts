import 'reflect-metadata';
import { runApp } from '@cx/http';
import { ProjectorModule } from './projector.module.js';

runApp('projector', (config) => ProjectorModule.forRoot(config));
