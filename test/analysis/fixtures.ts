import { readdirSync } from 'node:fs';
import { fixturePath, readFixtureJson, REPO_ROOT } from '../helpers/fixtures.js';

export { REPO_ROOT };

/** The scikit-learn/SciPy golden sets (test/fixtures/sklearn, see its README). */
export const SKLEARN_FIXTURES = fixturePath('sklearn');

export interface ProtocolFixture {
  k: number;
  weights: 'uniform' | 'distance';
  n_splits: number;
  random_state: number;
  test_folds: number[][];
  knn_proba: number[][][];
  dummy_proba: number[][][];
  model_roc_auc_by_fold: number[];
  baseline_roc_auc_by_fold: number[];
  model_roc_auc: number;
  baseline_roc_auc: number;
  improvement: number;
  t_statistic: number;
  p_value: number;
}

export interface SklearnSet {
  name: string;
  X: number[][];
  y: (string | number)[];
  label_encoder_classes: (string | number)[];
  y_encoded: number[];
  protocol_uniform_k29: ProtocolFixture;
  protocol_distance_k25: ProtocolFixture;
  skf_noshuffle_test_folds: number[][];
  cross_val_score: Record<string, number[]>;
  train_test_split: {
    test_size: number;
    random_state: number;
    train: number[];
    test: number[];
    knn5_pred: number[];
    report: Record<string, Record<string, number> | number>;
  };
  pca2: { components: number[][]; explained_variance_ratio: number[]; transformed_first10: number[][] };
  tsne: { perplexity: number; n_iter: number; init: string; kl_divergence: number; trustworthiness_k5: number };
}

export function loadSklearnSets(): SklearnSet[] {
  const files = readdirSync(SKLEARN_FIXTURES).filter((f) => /^set.*\.json$/.test(f)).sort();
  if (files.length === 0) throw new Error(`no set*.json fixtures in ${SKLEARN_FIXTURES}`);
  return files.map((f) => readFixtureJson<SklearnSet>('sklearn', f));
}

export function assertClose(actual: number, expected: number, tol: number, what: string, relative = false): void {
  const err = Math.abs(actual - expected);
  const lim = relative ? tol * Math.abs(expected) : tol;
  if (!(err <= lim)) throw new Error(`${what}: got ${actual}, expected ${expected} (|Δ| = ${err}, limit ${lim})`);
}

export function assertMatrixClose(actual: ArrayLike<ArrayLike<number>>, expected: ArrayLike<ArrayLike<number>>, tol: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} rows, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i].length !== expected[i].length) throw new Error(`${what}[${i}]: ${actual[i].length} columns, expected ${expected[i].length}`);
    for (let j = 0; j < expected[i].length; j++) assertClose(actual[i][j], expected[i][j], tol, `${what}[${i}][${j}]`);
  }
}
