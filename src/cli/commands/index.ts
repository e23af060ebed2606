import type { Command } from 'commander';

/** Each command lives in its own file and registers itself here (one line per command). */
export function registerCommands(program: Command): void {
  void program;
}
