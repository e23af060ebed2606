/** `entropylens classify`: kNN accuracy on stored profiles per k, then a train/test split with a per-class report. */
import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';
import type { ClassificationResult } from '../../analysis/index.js';
import { parseIntOption, parseNumberList } from './common.js';
import { selectLabelled } from '../../analysis/dataset.js';

interface ClassifyFlags {
  windows?: number;
  alpha?: number[];
  metric?: string[];
  k?: number[];
  label: string;
  folds: number;
  testSize: string;
  seed: number;
  model?: string;
  json?: boolean;
  partial?: boolean;
}

export function register(program: Command): void {
  program
    .command('classify')
    .description('kNN accuracy on entropy profiles: k-fold CV per k, then a stratified train/test split with a per-class report (the reference classify_formats.py)')
    .argument('<results>', 'results dataset folder (or one .parquet file)')
    .option('--alpha <alphas...>', 'Rényi orders to evaluate, each selecting metric renyi:α (α = 1 is shannon); default 0.5 1 5', parseNumberList('--alpha', false))
    .option('--metric <names...>', 'stored metrics to evaluate instead of --alpha')
    .option('--k <ks...>', 'neighbour counts; default 3 5 7', parseNumberList('--k', true))
    .option('--label <column>', 'label to predict', 'format')
    .option('--windows <w>', 'average the stored steps in W windows first (default: the run\'s windows option, else the values as stored)', parseIntOption('--windows'))
    .option('--folds <n>', 'cross-validation folds (stratified, no shuffle)', parseIntOption('--folds'), 10)
    .option('--test-size <f>', 'test share (or count) of the stratified split', '0.2')
    .option('--seed <n>', 'random_state of the split', parseIntOption('--seed'), 42)
    .option('--model <name>', 'use only rows of this model')
    .option('--json', 'print the results as JSON')
    .option('--partial', 'read a sharded run whose shards are not all complete')
    .action(async (results: string, flags: ClassifyFlags) => {
      const testSize = Number(flags.testSize);
      if (!(testSize > 0)) throw new UserError(`--test-size must be a fraction in (0, 1) or a count, got '${flags.testSize}'`);
      const ks = flags.k ?? [3, 5, 7];
      if (ks.some((k) => k < 1)) throw new UserError('--k values must be positive');
      const { classifyFormats, formatClassification } = await import('../../analysis/index.js');
      const { labelValues, profilesOf, readResults, renyiMetric } = await import('../../store/index.js');
      const metrics = flags.metric ?? (flags.alpha ?? [0.5, 1, 5]).map(renyiMetric);
      const data = await readResults(results, { model: flags.model, partial: flags.partial });
      const present = new Set(data.rows.map((r) => r.metric));
      const out: { metric: string; result: ClassificationResult; dropped: number }[] = [];
      for (const metric of metrics) {
        const use = !present.has(metric) && metric === 'shannon' && present.has('renyi:1') ? 'renyi:1' : metric;
        const runWindows = data.manifest.options.windows;
        const profiles = profilesOf(data.rows, use, flags.windows ?? (typeof runWindows === 'number' ? runWindows : undefined));
        const sel = selectLabelled(profiles.X, labelValues(profiles.rows, flags.label));
        const result = classifyFormats(sel.X, sel.labels, { ks, folds: flags.folds, testSize, seed: flags.seed });
        out.push({ metric: use, result, dropped: sel.dropped });
        if (!flags.json) {
          const bar = '='.repeat(60);
          console.log(`${bar}\n${metric.startsWith('renyi:') || metric === 'shannon' ? `ALPHA = ${metric === 'shannon' ? 1 : metric.slice(6)} (metric ${use})` : `METRIC ${use}`}\n${bar}`);
          console.log(formatClassification(result));
          if (sel.dropped > 0) console.log(`note: ${sel.dropped} samples without a '${flags.label}' value were left out`);
          if (profiles.nonFinite > 0) console.log(`note: ${profiles.nonFinite} samples whose values hold NaN or Inf were left out`);
        }
      }
      if (flags.json) console.log(JSON.stringify({ results, label: flags.label, model: data.manifest.model, runs: out }, null, 2));
    });
}
