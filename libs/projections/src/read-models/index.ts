import type { Projection } from '../projection.js';
import * as complaints from './complaints/index.js';
import * as customer360 from './customer-360/index.js';
import * as journey from './journey/index.js';
import * as satisfaction from './satisfaction/index.js';
import * as retention from '../retention/index.js';

const readModels = [customer360, satisfaction, complaints, journey, retention];

/** Every read model of the platform: each folder exports its projections and its query controllers. */
export const allProjections: readonly Projection[] = readModels.flatMap((m) => m.projections);

export const readModelControllers: readonly (new (...args: never[]) => object)[] = readModels.flatMap((m) => m.controllers);
