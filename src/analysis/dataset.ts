/**
 * The evaluation of a results dataset as `entropylens evaluate` does it (rows → profiles → labels →
 * kNN vs dummy), one function for the CLI and the viewer so both give the same numbers.
 */
import { labelValues, profilesOf } from '../store/features.js';
import type { LabelValue, ResultRow } from '../store/schema.js';
import type { Label } from './numeric.js';
import { evaluateByGroup, evaluateProfiles, type EvaluationResult, type GroupEvaluation } from './protocol.js';

/** Keeps the samples that have a label (and a group, when grouping). */
export function selectLabelled<T>(
  X: T[],
  labels: LabelValue[],
  groups?: LabelValue[],
): { X: T[]; labels: Label[]; groups?: Label[]; dropped: number } {
  const keep: number[] = [];
  labels.forEach((l, i) => {
    if (l !== null && (!groups || groups[i] !== null)) keep.push(i);
  });
  return {
    X: keep.map((i) => X[i]),
    labels: keep.map((i) => labels[i] as Label),
    groups: groups ? keep.map((i) => groups[i] as Label) : undefined,
    dropped: labels.length - keep.length,
  };
}

export interface RowsEvaluationOptions {
  /** A label column, or a derived label (`task`, `model`, `experiment`). */
  label: string;
  metric: string;
  /** Average the stored steps in W windows first (1 = mean over generated tokens, the protocol). */
  windows: number;
  k: number;
  weights: 'uniform' | 'distance';
  folds: number;
  seed: number;
  /** Also score per value of this column. */
  by?: string;
}

export interface RowsEvaluation {
  overall: EvaluationResult;
  byGroup?: GroupEvaluation[];
  /** What was left out, in words (samples without a label, repeated sample_ids, non-finite values). */
  notes: string[];
}

/**
 * Why groups are missing from the per-group table: a group is scored only in folds where its test
 * samples hold at least two classes, so a group whose samples all share one label value (e.g. --by
 * prompt_type --label task: the prompt type fixes the task) never is.
 */
function groupNotes(labels: Label[], groups: Label[], scored: GroupEvaluation[], label: string, by: string): string[] {
  const classes = new Map<Label, Set<Label>>();
  groups.forEach((g, i) => (classes.get(g) ?? classes.set(g, new Set()).get(g)!).add(labels[i]));
  const single = [...classes].filter(([, c]) => c.size < 2).map(([g]) => String(g));
  const unscored = [...classes.keys()].filter((g) => !scored.some((s) => s.group === g)).map(String);
  const notes: string[] = [];
  if (single.length > 0) {
    notes.push(
      single.length === classes.size
        ? `every group of '${by}' has a single value of '${label}' ('${by}' determines '${label}'), so no group can be scored: ROC-AUC needs two classes within a group — choose a --by column that cuts across '${label}'`
        : `${single.length} group${single.length === 1 ? '' : 's'} of '${by}' (${single.slice(0, 5).join(', ')}${single.length > 5 ? ', …' : ''}) have a single value of '${label}' and are not scored`,
    );
  }
  const rest = unscored.filter((g) => !single.includes(g));
  if (rest.length > 0) notes.push(`${rest.length} group${rest.length === 1 ? '' : 's'} of '${by}' had a single '${label}' value in every test fold and are not scored (too few samples)`);
  return notes;
}

/** kNN on the rows' profiles of one metric vs a stratified dummy, as `entropylens evaluate` prints it. */
export function evaluateRows(rows: readonly ResultRow[], o: RowsEvaluationOptions): RowsEvaluation {
  const profiles = profilesOf(rows, o.metric, o.windows);
  const labels = labelValues(profiles.rows, o.label);
  const groups = o.by ? labelValues(profiles.rows, o.by) : undefined;
  const sel = selectLabelled(profiles.X, labels, groups);
  const opts = { k: o.k, weights: o.weights, folds: o.folds, seed: o.seed } as const;
  const overall = evaluateProfiles(sel.X, sel.labels, opts);
  const byGroup = o.by && sel.groups ? evaluateByGroup(sel.X, sel.labels, sel.groups, opts) : undefined;
  const notes = [
    ...(sel.dropped > 0 ? [`${sel.dropped} samples without a '${o.label}'${o.by ? ` or '${o.by}'` : ''} value were left out`] : []),
    ...(profiles.duplicates > 0 ? [`${profiles.duplicates} repeated sample_id rows were left out (first kept)`] : []),
    ...(byGroup ? groupNotes(sel.labels, sel.groups!, byGroup, o.label, o.by!) : []),
    ...(profiles.nonFinite > 0 ? [`${profiles.nonFinite} samples whose values hold NaN or Inf were left out`] : []),
  ];
  return { overall, byGroup, notes };
}
