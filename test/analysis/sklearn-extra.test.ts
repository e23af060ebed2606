import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  DummyClassifier,
  KFold,
  KNeighborsClassifier,
  PCA,
  StratifiedKFold,
  TSNE,
  classificationReport,
  rocAucScore,
  trainTestSplit,
  trustworthiness,
  ttestRel,
} from '../../src/analysis/index.js';
import { REPO_ROOT, assertClose, assertMatrixClose, loadSklearnSets } from './fixtures.js';

// Golden values printed by scikit-learn 1.6.1 / NumPy / SciPy (test/analysis/fixtures/sklearn_extra.py).
const ex = JSON.parse(readFileSync(`${REPO_ROOT}/test/analysis/fixtures/sklearn-extra.json`, 'utf8'));
const sets = loadSklearnSets();
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('KFold folds with and without shuffle', () => {
  for (const c of ex.kfold as { n: number; k: number; seed: number; shuffled: number[][]; plain: number[][] }[]) {
    assert.deepEqual(new KFold({ nSplits: c.k, shuffle: true, randomState: c.seed }).split(range(c.n)).map(([, te]) => te), c.shuffled);
    assert.deepEqual(new KFold({ nSplits: c.k }).split(range(c.n)).map(([, te]) => te), c.plain);
  }
});

test('StratifiedKFold on string labels (classes numbered by first appearance)', () => {
  const { y, folds } = ex.skf_strings as { y: string[]; folds: number[][] };
  assert.deepEqual(new StratifiedKFold({ nSplits: 5, shuffle: true, randomState: 7 }).split(y, y).map(([, te]) => te), folds);
});

test('trainTestSplit: plain, by count, stratified', () => {
  const p = ex.tts_plain;
  assert.deepEqual(trainTestSplit(range(p.n), { testSize: p.test_size, randomState: p.seed }), [p.train, p.test]);
  const c = ex.tts_count;
  assert.deepEqual(trainTestSplit(range(c.n), { testSize: c.test_size, randomState: c.seed }), [c.train, c.test]);
  const s = ex.tts_strat;
  assert.deepEqual(trainTestSplit(range(s.y.length), { testSize: s.test_size, stratify: s.y, randomState: s.seed }), [s.train, s.test]);
});

test('kNN: zero distances under distance weights, string classes', () => {
  const z = ex.knn_zero;
  const dist = new KNeighborsClassifier<string>({ nNeighbors: z.k, weights: 'distance' }).fit(z.Xtr, z.ytr);
  assertMatrixClose(dist.predictProba(z.Xq), z.proba_distance, 1e-12, 'distance proba');
  assert.deepEqual(dist.predict(z.Xq), z.pred_distance);
  const uni = new KNeighborsClassifier<string>({ nNeighbors: z.k }).fit(z.Xtr, z.ytr);
  assertMatrixClose(uni.predictProba(z.Xq), z.proba_uniform, 1e-12, 'uniform proba');
});

test('DummyClassifier(stratified): predict and predictProba rows', () => {
  const d = ex.dummy;
  const dc = new DummyClassifier<string>({ strategy: 'stratified', randomState: 42 }).fit(d.y, d.y);
  assert.deepEqual(dc.predictProba({ length: d.n }), d.proba);
  assert.deepEqual(dc.predict({ length: d.n }), d.pred);
});

test('rocAucScore: ties, booleans, macro and weighted one-vs-rest', () => {
  const r = ex.roc;
  assertClose(rocAucScore(r.yb, r.sb), r.binary, 1e-12, 'binary');
  assertClose(rocAucScore(r.bool_y, r.sb), r.bool_binary, 1e-12, 'boolean labels');
  assertClose(rocAucScore(r.ym, r.sm, { multiClass: 'ovr', average: 'macro' }), r.macro, 1e-12, 'macro');
  assertClose(rocAucScore(r.ym, r.sm, { multiClass: 'ovr', average: 'weighted' }), r.weighted, 1e-12, 'weighted');
  assert.throws(() => rocAucScore([1, 1, 1], [0.2, 0.3, 0.4]), /only one class/);
});

test('classificationReport text table, 2 and 3 digits', () => {
  const r = ex.report;
  assert.equal(classificationReport(r.y_true, r.y_pred), r.text2);
  assert.equal(classificationReport(r.y_true, r.y_pred, { digits: 3 }), r.text3);
});

test('ttestRel on a small sample', () => {
  const t = ttestRel(ex.ttest.a, ex.ttest.b);
  assertClose(t.statistic, ex.ttest.t, 1e-12, 't', true);
  assertClose(t.pvalue, ex.ttest.p, 1e-10, 'p', true);
});

for (const s of sets) {
  test(`${s.name}: PCA(2)`, () => {
    const pca = new PCA({ nComponents: 2 }).fit(s.X);
    // scikit-learn 1.2's 'auto' solver is exact (LAPACK) up to 500 rows and columns, randomized and
    // unseeded above; the shared fixture is exact only in the first case, so larger sets are
    // compared with NumPy's exact SVD.
    const exact = s.X.length <= 500 && s.X[0].length <= 500;
    const want = exact ? s.pca2 : ex.pca_exact[s.name];
    assertMatrixClose(pca.components, want.components, 1e-9, 'components');
    want.explained_variance_ratio.forEach((v: number, i: number) => assertClose(pca.explainedVarianceRatio[i], v, 1e-9, `ratio ${i}`));
    assertMatrixClose(pca.transform(s.X.slice(0, 10)), want.transformed_first10, 1e-9, 'transform');
    if (!exact) {
      // The randomized result still spans the same plane up to its own error.
      assertMatrixClose(pca.components.map((r) => r.map(Math.abs)), s.pca2.components.map((r) => r.map(Math.abs)), 1e-3, 'randomized fixture (loose)');
    }
  });

  test(`${s.name}: trustworthiness of a fixed embedding`, () => {
    const t = ex.trust[s.name];
    assertClose(trustworthiness(s.X, t.embedding, { nNeighbors: 5 }), t.k5, 1e-12, 'k=5');
    assertClose(trustworthiness(s.X, t.embedding, { nNeighbors: 10 }), t.k10, 1e-12, 'k=10');
  });
}

test('t-SNE exact method reaches the same quality on the smallest set', () => {
  const s = sets[0];
  const ts = new TSNE({ perplexity: 20, maxIter: 300, method: 'exact', randomState: 42 });
  const emb = ts.fitTransform(s.X);
  assertClose(ts.klDivergence, s.tsne.kl_divergence, 0.1, 'KL divergence', true);
  assertClose(trustworthiness(s.X, emb, { nNeighbors: 5 }), s.tsne.trustworthiness_k5, 0.02, 'trustworthiness');
});
