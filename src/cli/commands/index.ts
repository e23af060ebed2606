import type { Command } from 'commander';
import { register as registerEvaluate } from './evaluate.js';
import { register as registerClassify } from './classify.js';

/** Each command lives in its own file and registers itself here (one line per command). */
export function registerCommands(program: Command): void {
  registerEvaluate(program);
  registerClassify(program);
}
