import type { Command } from './cli-io.js';

/** Every `cx` command. A command module exports one Command; add it here. */
export const commands: ReadonlyArray<() => Promise<Command>> = [
  () => import('./journey.command.js').then((m) => m.journeyCommand),
  () => import('./projections.command.js').then((m) => m.projectionsCommand),
];
