/** `entropylens evaluate`: kNN vs stratified dummy on a results dataset (cross-validated ROC-AUC, paired t-test). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';
import type { EvaluationResult, GroupEvaluation, Label } from '../../analysis/index.js';
import { csvTable, parseIntOption } from './common.js';

interface EvaluateFlags {
  label?: string;
  metric: string;
  windows: number;
  k: number;
  weights: string;
  folds: number;
  seed: number;
  by?: string;
  model?: string;
  json?: boolean;
  csv?: string;
  partial?: boolean;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('kNN on entropy profiles vs a stratified dummy: cross-validated ROC-AUC and a paired t-test (the reference run_tests.py)')
    .argument('<results>', 'results dataset folder (or one .parquet file)')
    .option('--label <column>', "label to predict: a label column (e.g. correct, subject), or 'task' (the task or prompt_type column up to the first _); default: the experiment's own (tinystories: task, mmlu: correct, formats: format, families: family)")
    .option('--metric <name>', 'stored metric to use as features (shannon, renyi:0.5, …)', 'shannon')
    .option('--windows <w>', 'average the stored steps in W windows first (1 = mean over generated tokens, the protocol)', parseIntOption('--windows'), 1)
    .option('--k <n>', 'neighbours', parseIntOption('--k'), 29)
    .option('--weights <w>', 'uniform or distance', 'uniform')
    .option('--folds <n>', 'stratified folds', parseIntOption('--folds'), 10)
    .option('--seed <n>', 'random_state of the folds and the dummy', parseIntOption('--seed'), 42)
    .option('--by <column>', 'also score per value of this column (the reference per-subject table)')
    .option('--model <name>', 'use only rows of this model')
    .option('--json', 'print the result as JSON')
    .option('--csv <file>', 'write the per-fold scores (or with --by, the per-group table) as CSV')
    .option('--partial', 'read a sharded run whose shards are not all complete')
    .action(async (results: string, flags: EvaluateFlags) => {
      if (flags.weights !== 'uniform' && flags.weights !== 'distance') throw new UserError(`--weights must be uniform or distance, got '${flags.weights}'`);
      const weights = flags.weights;
      const { formatEvaluation, formatGroupEvaluation } = await import('../../analysis/index.js');
      const { evaluateRows } = await import('../../analysis/dataset.js');
      const { defaultLabel, readResults } = await import('../../store/index.js');
      const data = await readResults(results, { metric: flags.metric, model: flags.model, partial: flags.partial });
      const label = flags.label ?? defaultLabel(data.manifest.experiment);
      const all = await (async () => {
        if (data.rows.length > 0) return data.rows;
        // Nothing for this metric: read everything to say which metrics exist.
        return (await readResults(results, { model: flags.model, partial: flags.partial })).rows;
      })();
      const { overall, byGroup, notes } = evaluateRows(all, { label, metric: flags.metric, windows: flags.windows, k: flags.k, weights, folds: flags.folds, seed: flags.seed, by: flags.by });
      if (data.missingShards.length > 0) notes.push(`partial data: shards ${data.missingShards.join(', ')} of the run are not complete`);

      if (flags.csv) writeFileSync(flags.csv, byGroup ? groupCsv(byGroup, flags.by as string) : foldCsv(overall));
      if (flags.json) {
        console.log(JSON.stringify({ results, metric: flags.metric, label: label, model: data.manifest.model, notes, overall, byGroup }, null, 2));
        return;
      }
      const title = `${results}: ${data.manifest.experiment || 'results'} of ${data.manifest.model || 'unknown model'}, metric ${flags.metric}, label ${label}`;
      console.log(formatEvaluation(overall, title));
      if (byGroup) {
        console.log('');
        console.log(`By ${flags.by}:`);
        console.log(formatGroupEvaluation(byGroup, flags.by));
      }
      for (const n of notes) console.log(`note: ${n}`);
      if (flags.csv) console.log(`wrote ${flags.csv}`);
    });
}

function foldCsv(r: EvaluationResult): string {
  const header = ['fold', 'model_roc_auc_by_fold', 'baseline_roc_auc_by_fold', 'model_roc_auc', 'baseline_roc_auc', 'improvement', 't_statistic', 'p_value', 'significant', 'positive_rate'];
  const rows = r.modelAucByFold.map((m, i) => [i + 1, m, r.baselineAucByFold[i], r.modelRocAuc, r.baselineRocAuc, r.improvement, r.tStatistic, r.pValue, r.significant, r.positiveRate ?? '']);
  return csvTable(header, rows);
}

function groupCsv(rows: GroupEvaluation[], name: string): string {
  const header = [name, 'sample_count', 'roc_auc', 'baseline_roc_auc', 'improvement', 'p_value', 'significant', 'f1_score', 'folds_scored'];
  return csvTable(
    header,
    rows.map((g) => [g.group as Label, g.sampleCount, g.rocAuc, g.baselineRocAuc, g.improvement, g.pValue, g.significant, g.f1, g.foldsScored]),
  );
}
