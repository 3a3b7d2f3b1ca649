import type { Projection } from '../../projection.js';
import { JourneyController } from './journey.controller.js';
import { journeyProjection } from './journey.projection.js';

export const projections: readonly Projection[] = [journeyProjection];
export const controllers: readonly (new (...args: never[]) => object)[] = [JourneyController];
