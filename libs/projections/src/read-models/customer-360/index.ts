import type { Projection } from '../../projection.js';
import { Customer360Controller } from './customer-360.controller.js';
import { customer360Projection } from './customer-360.projection.js';

export const projections: readonly Projection[] = [customer360Projection];
export const controllers: readonly (new (...args: never[]) => object)[] = [Customer360Controller];
