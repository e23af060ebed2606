import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DummyClassifier,
  KNeighborsClassifier,
  LabelEncoder,
  StratifiedKFold,
  classificationReport,
  crossValScore,
  rocAucScore,
  trainTestSplit,
  ttestRel,
  npMean,
} from '../../src/analysis/index.js';
import { assertClose, assertMatrixClose, loadSklearnSets, type ProtocolFixture, type SklearnSet } from './fixtures.js';

const sets = loadSklearnSets();

function foldAuc(yTest: number[], proba: number[][]): number {
  return new Set(yTest).size === 2 ? rocAucScore(yTest, proba.map((r) => r[1])) : rocAucScore(yTest, proba, { multiClass: 'ovr', average: 'macro' });
}

for (const s of sets) {
  const y = s.y_encoded;
  const take = <T>(a: T[], idx: number[]): T[] => idx.map((i) => a[i]);

  test(`${s.name}: LabelEncoder`, () => {
    const le = new LabelEncoder().fit(s.y);
    assert.deepEqual(le.classes, s.label_encoder_classes);
    assert.deepEqual(le.transform(s.y), s.y_encoded);
  });

  test(`${s.name}: StratifiedKFold with and without shuffle`, () => {
    const shuffled = new StratifiedKFold({ nSplits: 10, shuffle: true, randomState: 42 }).split(s.X, y);
    assert.deepEqual(shuffled.map(([, te]) => te), s.protocol_uniform_k29.test_folds);
    const plain = new StratifiedKFold({ nSplits: 10 }).split(s.X, y);
    assert.deepEqual(plain.map(([, te]) => te), s.skf_noshuffle_test_folds);
    // Raw labels (strings) give the same folds as their codes: the class order is by first appearance either way.
    const raw = new StratifiedKFold({ nSplits: 10, shuffle: true, randomState: 42 }).split(s.X, s.y);
    assert.deepEqual(raw.map(([, te]) => te), s.protocol_uniform_k29.test_folds);
  });

  test(`${s.name}: trainTestSplit(stratify)`, () => {
    const idx = s.X.map((_, i) => i);
    const [train, test] = trainTestSplit(idx, { testSize: 0.2, stratify: y, randomState: 42 });
    assert.deepEqual(train, s.train_test_split.train);
    assert.deepEqual(test, s.train_test_split.test);
  });

  for (const key of ['protocol_uniform_k29', 'protocol_distance_k25'] as const) {
    const p: ProtocolFixture = s[key];
    test(`${s.name}: ${key} kNN probabilities, dummy rows, ROC-AUC per fold, t-test`, () => {
      const all = s.X.map((_, i) => i);
      const modelAuc: number[] = [];
      const baseAuc: number[] = [];
      p.test_folds.forEach((testIdx, f) => {
        const inTest = new Set(testIdx);
        const trainIdx = all.filter((i) => !inTest.has(i));
        const knn = new KNeighborsClassifier({ nNeighbors: p.k, weights: p.weights }).fit(take(s.X, trainIdx), take(y, trainIdx));
        const proba = knn.predictProba(take(s.X, testIdx));
        assertMatrixClose(proba, p.knn_proba[f], 1e-12, `fold ${f} knn proba`);
        const dummy = new DummyClassifier({ strategy: 'stratified', randomState: 42 }).fit(take(s.X, trainIdx), take(y, trainIdx));
        assert.deepEqual(dummy.predictProba(take(s.X, testIdx)), p.dummy_proba[f], `fold ${f} dummy rows`);
        // ROC-AUC from the fixture's own probabilities, so the metric is checked on its own.
        const yTest = take(y, testIdx);
        const m = foldAuc(yTest, p.knn_proba[f]);
        const b = foldAuc(yTest, p.dummy_proba[f]);
        assertClose(m, p.model_roc_auc_by_fold[f], 1e-12, `fold ${f} model ROC-AUC`);
        assertClose(b, p.baseline_roc_auc_by_fold[f], 1e-12, `fold ${f} baseline ROC-AUC`);
        modelAuc.push(m);
        baseAuc.push(b);
      });
      assertClose(npMean(modelAuc), p.model_roc_auc, 1e-12, 'mean model ROC-AUC');
      assertClose(npMean(baseAuc), p.baseline_roc_auc, 1e-12, 'mean baseline ROC-AUC');
      // The t-test on the fixture's per-fold scores.
      const t = ttestRel(p.model_roc_auc_by_fold, p.baseline_roc_auc_by_fold);
      assertClose(t.statistic, p.t_statistic, 1e-9, 't statistic', true);
      assertClose(t.pvalue, p.p_value, 1e-9, 'p-value', true);
    });
  }

  test(`${s.name}: crossValScore(kNN, cv=10) for k = 3, 5, 7`, () => {
    for (const [k, expected] of Object.entries(s.cross_val_score)) {
      const scores = crossValScore(new KNeighborsClassifier({ nNeighbors: Number(k) }), s.X, y, { cv: 10 });
      assert.equal(scores.length, expected.length);
      scores.forEach((v, i) => assertClose(v, expected[i], 1e-12, `k=${k} fold ${i}`));
    }
  });

  test(`${s.name}: kNN(5) on the stratified split and classification_report`, () => {
    const tts = s.train_test_split;
    const knn = new KNeighborsClassifier({ nNeighbors: 5 }).fit(take(s.X, tts.train), take(y, tts.train));
    const pred = knn.predict(take(s.X, tts.test));
    assert.deepEqual(pred, tts.knn5_pred);
    const names = s.label_encoder_classes.map(String);
    const report = classificationReport(take(y, tts.test), tts.knn5_pred, { targetNames: names, outputDict: true });
    assert.deepEqual(Object.keys(report), Object.keys(tts.report));
    for (const [key, want] of Object.entries(tts.report)) {
      const got = report[key];
      if (typeof want === 'number') {
        assertClose(got as number, want, 1e-12, key);
      } else {
        for (const [field, v] of Object.entries(want)) assertClose((got as unknown as Record<string, number>)[field], v, 1e-12, `${key}.${field}`);
      }
    }
  });
}

test('ttestRel: degenerate inputs follow SciPy (constant differences, no differences)', () => {
  const a = [1, 2, 3, 4];
  const same = ttestRel(a, a);
  assert.ok(Number.isNaN(same.statistic) && Number.isNaN(same.pvalue));
  const shifted = ttestRel(a.map((v) => v + 1), a);
  assert.equal(shifted.statistic, Infinity);
  assert.equal(shifted.pvalue, 0);
});

export type { SklearnSet };
