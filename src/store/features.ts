/**
 * From stored rows to what a classifier needs: one feature row per sample and one label per
 * sample.
 */
import { UserError } from '../util/errors.js';
import { windowMeansFlat } from '../util/windows.js';
import type { LabelValue, ResultRow } from './schema.js';

export interface Profiles {
  rows: ResultRow[];
  /** Flattened values, one row per sample (row-major steps × layers). */
  X: Float32Array[];
  nFeatures: number;
  /** Samples dropped because the same sample_id appeared again for the metric. */
  duplicates: number;
  /** Samples dropped because their values hold NaN or Inf (a model that produced non-finite entropies). */
  nonFinite: number;
}

/** True when every stored value is a finite number. */
export function isFiniteRow(r: ResultRow): boolean {
  return r.values.every(Number.isFinite);
}

/**
 * A row's values as features: with `windows`, the n_steps × n_layers matrix is first averaged over
 * `windows` consecutive groups of steps (PROTOCOL §1.6; 1 = the mean over generated tokens), then
 * flattened row-major; without, the stored values as they are.
 */
export function rowFeatures(r: ResultRow, windows?: number): Float32Array {
  if (windows === undefined || windows === r.n_steps) return r.values;
  if (!Number.isInteger(windows) || windows < 1 || r.n_steps % windows !== 0) {
    throw new UserError(`--windows ${windows} does not divide the ${r.n_steps} stored steps of sample ${r.sample_id}; choose a divisor of ${r.n_steps}`);
  }
  return Float32Array.from(windowMeansFlat(r.values, r.n_steps, r.n_layers, windows));
}

/**
 * The rows of one metric as a feature matrix, in stored order, keeping the first row of each
 * sample_id; `windows` averages steps first (see rowFeatures).
 */
export function profilesOf(rows: readonly ResultRow[], metric: string, windows?: number): Profiles {
  const picked: ResultRow[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let nonFinite = 0;
  for (const r of rows) {
    if (r.metric !== metric) continue;
    if (seen.has(r.sample_id)) {
      duplicates++;
      continue;
    }
    seen.add(r.sample_id);
    if (!isFiniteRow(r)) {
      nonFinite++;
      continue;
    }
    picked.push(r);
  }
  if (picked.length === 0 && nonFinite > 0) {
    throw new UserError(`every row with metric '${metric}' holds NaN or Inf values (${nonFinite} samples): the model produced non-finite entropies; nothing to analyse`);
  }
  if (picked.length === 0) {
    const available = [...new Set(rows.map((r) => r.metric))];
    throw new UserError(`no rows with metric '${metric}'; the results have: ${available.join(', ') || 'no rows at all'}`);
  }
  const X = picked.map((r) => rowFeatures(r, windows));
  const nFeatures = X[0].length;
  for (const [i, r] of picked.entries()) {
    if (X[i].length !== nFeatures) {
      throw new UserError(
        `sample ${r.sample_id} has ${r.n_steps}×${r.n_layers} values but sample ${picked[0].sample_id} has ${picked[0].n_steps}×${picked[0].n_layers}; ` +
          'profiles must share one shape (same windows and depth) to be compared',
      );
    }
  }
  return { rows: picked, X, nFeatures, duplicates, nonFinite };
}

/** The label each experiment's evaluation predicts (and its figures group by). */
export const EXPERIMENT_LABEL: Readonly<Record<string, string>> = { tinystories: 'task', mmlu: 'correct', formats: 'format', families: 'family' };

/** The label to use when none is given: the experiment's own, else `correct` (the MMLU reference's). */
export function defaultLabel(experiment: string): string {
  return EXPERIMENT_LABEL[experiment] ?? 'correct';
}

/** Names `labelValues` accepts besides the stored label columns. */
export const DERIVED_LABELS = ['task', 'model', 'experiment'] as const;

/**
 * The value of label `name` for each row. `task` is the task group: the part before the first
 * `_` of the `task` label (or of `prompt_type` when there is no task column), so TinyStories'
 * `counting_prompt_1_scramble` gives `counting`.
 */
export function labelValues(rows: readonly ResultRow[], name: string): LabelValue[] {
  if (rows.length === 0) return [];
  const has = (col: string): boolean => rows.some((r) => col in r.labels);
  if (name === 'model' || name === 'experiment') return rows.map((r) => r[name]);
  if (name === 'task' && (has('task') || has('prompt_type'))) {
    const col = has('task') ? 'task' : 'prompt_type';
    return rows.map((r) => {
      const v = r.labels[col];
      return v === null || v === undefined ? null : String(v).split('_')[0];
    });
  }
  if (!has(name)) {
    const cols = Object.keys(rows[0].labels);
    const available = new Set([...cols, ...(cols.includes('prompt_type') ? ['task'] : []), 'model', 'experiment']);
    throw new UserError(`no label column '${name}' in the results; available: ${[...available].join(', ')}`);
  }
  return rows.map((r) => r.labels[name] ?? null);
}
