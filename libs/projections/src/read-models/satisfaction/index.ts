import type { Projection } from '../../projection.js';
import { ChangesController } from './changes.controller.js';
import { changesProjection } from './changes.projection.js';
import { SatisfactionController } from './satisfaction.controller.js';
import { satisfactionProjection } from './satisfaction.projection.js';

export const projections: readonly Projection[] = [satisfactionProjection, changesProjection];
export const controllers: readonly (new (...args: never[]) => object)[] = [SatisfactionController, ChangesController];
