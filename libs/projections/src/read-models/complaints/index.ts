import type { Projection } from '../../projection.js';
import { ComplaintFunnelController } from './complaints.controller.js';
import { complaintsProjection } from './complaints.projection.js';

export const projections: readonly Projection[] = [complaintsProjection];
export const controllers: readonly (new (...args: never[]) => object)[] = [ComplaintFunnelController];
