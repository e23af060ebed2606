import type { Command } from 'commander';
import { register as inspect } from './inspect.js';
import { register as models } from './models.js';
import { register as profile } from './profile.js';

/** Each command lives in its own file and registers itself here (one line per command). */
export function registerCommands(program: Command): void {
  profile(program);
  models(program);
  inspect(program);
}
