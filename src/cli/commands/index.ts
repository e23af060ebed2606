/** The CLI's command table: every command registers itself here. */
import type { Command } from 'commander';
import { register as classify } from './classify.js';
import { register as demo } from './demo.js';
import { register as evaluate } from './evaluate.js';
import { register as inspect } from './inspect.js';
import { register as models } from './models.js';
import { register as plot } from './plot.js';
import { register as profile } from './profile.js';
import { register as run } from './run.js';
import { register as status } from './status.js';
import { register as view } from './view.js';

/** Each command lives in its own file and registers itself here (one line per command). */
export function registerCommands(program: Command): void {
  demo(program);
  profile(program);
  run(program);
  status(program);
  evaluate(program);
  classify(program);
  plot(program);
  models(program);
  inspect(program);
  view(program);
}
