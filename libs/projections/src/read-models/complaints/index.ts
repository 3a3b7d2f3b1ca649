import type { Projection } from '../../projection.js';

export const projections: readonly Projection[] = [];
export const controllers: readonly (new (...args: never[]) => object)[] = [];
