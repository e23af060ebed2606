/** `entropylens status DIR` and `entropylens merge DIR`: where a (sharded) run stands, and compacting it. */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('status')
    .description('Where a results folder stands: per shard (or for the whole run) samples done / total, the last write, complete or not')
    .argument('<results>', 'results folder written by `entropylens run …`')
    .option('--json', 'print the status as JSON')
    .action(async (results: string, o: { json?: boolean }) => {
      const { datasetStatus, formatStatus } = await import('../../store/index.js');
      const st = await datasetStatus(results);
      if (o.json) {
        const { manifest, ...rest } = st;
        console.log(JSON.stringify({ ...rest, experiment: manifest.experiment, model: manifest.model, code_version: manifest.codeVersion, sharding: manifest.sharding ?? null }, null, 2));
      } else console.log(formatStatus(st));
    });

  program
    .command('merge')
    .description('Compact a results folder: every part file (of all shards and writers) into one dataset with each sample exactly once')
    .argument('<results>', 'results folder written by `entropylens run …`')
    .option('--partial', 'merge a sharded run whose shards are not all complete')
    .action(async (results: string, o: { partial?: boolean }) => {
      const { mergeDataset } = await import('../../store/index.js');
      const m = await mergeDataset(results, { partial: o.partial });
      console.log(
        `merged ${m.partsBefore} part file${m.partsBefore === 1 ? '' : 's'} into ${m.partsAfter}: ${m.samples} samples, ${m.rows} rows` +
          (m.duplicateRows > 0 ? ` (${m.duplicateRows} rows of samples written twice removed)` : ''),
      );
    });
}
