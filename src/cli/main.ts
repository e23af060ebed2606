#!/usr/bin/env node
/** The `entropylens` executable: commander setup, one-line UserError messages, exit codes. */
import { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { registerCommands } from './commands/index.js';
import { packageVersion } from '../util/package.js';
import { setProgressMode } from '../util/progress.js';

// `entropylens … | head` closes stdout early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command();
program
  .name('entropylens')
  .description('Entropy profiles of transformer LMs: the logit lens at every generated token and every block.')
  .version(packageVersion(), '-V, --version', 'print the entropylens version')
  .option('--debug', 'show stack traces on errors')
  .option('--quiet', 'no progress output (bars on a terminal, a line every 30 s otherwise)')
  .showHelpAfterError()
  .hook('preAction', (cmd) => {
    if (cmd.opts().quiet) setProgressMode({ quiet: true });
  });

registerCommands(program);

function isDebug(): boolean {
  return process.argv.includes('--debug') || process.env.ENTROPYLENS_DEBUG === '1';
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (isDebug()) {
    console.error(err);
  } else if (err instanceof UserError) {
    console.error(`entropylens: ${err.message}`);
  } else {
    const msg = err instanceof Error ? err.message : String(err);
    console.error(`entropylens: ${msg} (run with --debug for details)`);
  }
  process.exitCode = 1;
});
