/**
 * The protocol's evaluations (PROTOCOL.md §3–5) as library calls, so the CLI and experiment runs
 * print the same numbers and the same tables.
 *
 * - `evaluateProfiles`: the reference's `evaluate_model_overall` — kNN vs a stratified dummy,
 *   ROC-AUC per fold of a shuffled StratifiedKFold, paired t-test over folds.
 * - `evaluateByGroup`: its `evaluate_model_by_subject` — the same folds scored per group.
 * - `classifyFormats`: `classify_formats.py` — 10-fold accuracy per k, then a stratified
 *   train/test split with a per-class report.
 */
import { UserError } from '../util/errors.js';
import { DummyClassifier } from './dummy.js';
import { binaryRocAuc, classificationReport, f1Score, rocAucScore, pyFixed, type ClassificationReportDict } from './metrics.js';
import { StratifiedKFold, crossValScore, trainTestSplit } from './model-selection.js';
import { KNeighborsClassifier, type KNeighborsWeights } from './neighbors.js';
import { bincount, npMean, npStd, takeRows, toDense, type Dense, type Label, type MatrixLike } from './numeric.js';
import { LabelEncoder } from './preprocessing.js';
import { ttestRel } from './stats.js';

export interface EvaluateOptions {
  /** Neighbours (the reference: 29 overall, 25 per subject). */
  k?: number;
  weights?: KNeighborsWeights;
  folds?: number;
  /** random_state of the folds and of the dummy. */
  seed?: number;
}

export interface EvaluationResult {
  nSamples: number;
  nFeatures: number;
  /** Sorted classes; class i has code i, and in the binary case class 1 is the positive one. */
  classes: Label[];
  classCounts: number[];
  binary: boolean;
  k: number;
  weights: KNeighborsWeights;
  folds: number;
  seed: number;
  modelRocAuc: number;
  baselineRocAuc: number;
  improvement: number;
  tStatistic: number;
  pValue: number;
  significant: boolean;
  modelAucByFold: number[];
  baselineAucByFold: number[];
  /** Binary labels: the share of the positive class (the reference's "correct" rate). */
  positiveRate?: number;
  warnings: string[];
}

interface Prepared {
  X: Dense;
  y: number[];
  classes: Label[];
  counts: number[];
  k: number;
  weights: KNeighborsWeights;
  folds: number;
  seed: number;
}

function prepare(X: MatrixLike | Dense, labels: ArrayLike<Label>, opts: EvaluateOptions): Prepared {
  const dense = toDense(X, 'profiles');
  if (dense.rows !== labels.length) throw new UserError(`${dense.rows} profiles but ${labels.length} labels`);
  const le = new LabelEncoder().fit(labels);
  if (le.classes.length < 2) throw new UserError(`the label has a single class (${JSON.stringify(le.classes[0])}); a classifier needs at least two`);
  const y = le.transform(labels);
  return {
    X: dense,
    y,
    classes: le.classes,
    counts: bincount(y, le.classes.length),
    k: opts.k ?? 29,
    weights: opts.weights ?? 'uniform',
    folds: opts.folds ?? 10,
    seed: opts.seed ?? 42,
  };
}

function foldScores(
  p: Prepared,
  train: number[],
  test: number[],
): { proba: Float64Array; baseline: number[][]; pred: number[]; yTest: number[] } {
  const knn = new KNeighborsClassifier({ nNeighbors: p.k, weights: p.weights }).fit(takeRows(p.X, train), train.map((i) => p.y[i]));
  if (knn.classes.length !== p.classes.length) {
    throw new UserError(`a training fold lacks some classes (has ${knn.classes.length} of ${p.classes.length}); use fewer folds or more samples per class`);
  }
  const Xt = takeRows(p.X, test);
  const { proba } = knn.predictProbaFlat(Xt);
  const C = p.classes.length;
  const pred = test.map((_, r) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (proba[r * C + c] > proba[r * C + best]) best = c;
    return best;
  });
  const dummy = new DummyClassifier({ strategy: 'stratified', randomState: p.seed }).fit(train, train.map((i) => p.y[i]));
  const baseline = dummy.predictProba(test);
  return { proba, baseline, pred, yTest: test.map((i) => p.y[i]) };
}

/** ROC-AUC of rows `rows` of a fold: binary on class 1, else one-vs-rest macro over the classes present. */
function subsetAuc(yTest: number[], scoreAt: (r: number, c: number) => number, C: number, rows: number[]): number {
  const ys = rows.map((r) => yTest[r]);
  if (C === 2) return binaryRocAuc(ys, rows.map((r) => scoreAt(r, 1)));
  const present = [...new Set(ys)].sort((a, b) => a - b);
  if (present.length === C) {
    return rocAucScore(ys, rows.map((r) => Array.from({ length: C }, (_, c) => scoreAt(r, c))), { multiClass: 'ovr', average: 'macro' });
  }
  // A subset missing some classes (scikit-learn would refuse): average over the classes present.
  return npMean(present.map((c) => binaryRocAuc(ys.map((v) => v === c), rows.map((r) => scoreAt(r, c)))));
}

/** kNN vs stratified dummy, ROC-AUC per fold, paired t-test (PROTOCOL.md §3). */
export function evaluateProfiles(X: MatrixLike | Dense, labels: ArrayLike<Label>, opts: EvaluateOptions = {}): EvaluationResult {
  const p = prepare(X, labels, opts);
  const skf = new StratifiedKFold({ nSplits: p.folds, shuffle: true, randomState: p.seed });
  const splits = skf.split({ length: p.X.rows }, p.y);
  const C = p.classes.length;
  const modelAucByFold: number[] = [];
  const baselineAucByFold: number[] = [];
  for (const [train, test] of splits) {
    const f = foldScores(p, train, test);
    const all = test.map((_, r) => r);
    modelAucByFold.push(subsetAuc(f.yTest, (r, c) => f.proba[r * C + c], C, all));
    baselineAucByFold.push(subsetAuc(f.yTest, (r, c) => f.baseline[r][c], C, all));
  }
  const modelRocAuc = npMean(modelAucByFold);
  const baselineRocAuc = npMean(baselineAucByFold);
  const t = ttestRel(modelAucByFold, baselineAucByFold);
  return {
    nSamples: p.X.rows,
    nFeatures: p.X.cols,
    classes: p.classes,
    classCounts: p.counts,
    binary: C === 2,
    k: p.k,
    weights: p.weights,
    folds: p.folds,
    seed: p.seed,
    modelRocAuc,
    baselineRocAuc,
    improvement: modelRocAuc - baselineRocAuc,
    tStatistic: t.statistic,
    pValue: t.pvalue,
    significant: t.pvalue < 0.05,
    modelAucByFold,
    baselineAucByFold,
    positiveRate: C === 2 ? p.counts[1] / p.X.rows : undefined,
    warnings: skf.warning ? [skf.warning] : [],
  };
}

export interface GroupEvaluation {
  group: Label;
  sampleCount: number;
  rocAuc: number;
  baselineRocAuc: number;
  improvement: number;
  pValue: number;
  significant: boolean;
  /** Mean macro F1 of the kNN's predictions. */
  f1: number;
  /** Folds in which the group had at least two classes (the others are skipped, as the reference does). */
  foldsScored: number;
}

/** The §3 evaluation scored per group (the reference's per-subject table), best ROC-AUC first. */
export function evaluateByGroup(X: MatrixLike | Dense, labels: ArrayLike<Label>, groups: ArrayLike<Label>, opts: EvaluateOptions = {}): GroupEvaluation[] {
  const p = prepare(X, labels, opts);
  if (groups.length !== p.X.rows) throw new UserError(`${p.X.rows} profiles but ${groups.length} group values`);
  const splits = new StratifiedKFold({ nSplits: p.folds, shuffle: true, randomState: p.seed }).split({ length: p.X.rows }, p.y);
  const C = p.classes.length;
  const acc = new Map<Label, { model: number[]; base: number[]; f1: number[]; count: number }>();
  for (const [train, test] of splits) {
    const f = foldScores(p, train, test);
    const byGroup = new Map<Label, number[]>();
    test.forEach((i, r) => {
      const g = groups[i];
      const list = byGroup.get(g);
      if (list) list.push(r);
      else byGroup.set(g, [r]);
    });
    for (const [g, rows] of byGroup) {
      if (new Set(rows.map((r) => f.yTest[r])).size < 2) continue;
      const a = acc.get(g) ?? { model: [], base: [], f1: [], count: 0 };
      a.f1.push(f1Score(rows.map((r) => f.yTest[r]), rows.map((r) => f.pred[r]), { average: 'macro' }));
      a.model.push(subsetAuc(f.yTest, (r, c) => f.proba[r * C + c], C, rows));
      a.base.push(subsetAuc(f.yTest, (r, c) => f.baseline[r][c], C, rows));
      a.count += rows.length;
      acc.set(g, a);
    }
  }
  const out: GroupEvaluation[] = [];
  for (const [group, a] of acc) {
    const rocAuc = npMean(a.model);
    const baselineRocAuc = npMean(a.base);
    const pValue = a.model.length >= 2 ? ttestRel(a.model, a.base).pvalue : NaN;
    out.push({ group, sampleCount: a.count, rocAuc, baselineRocAuc, improvement: rocAuc - baselineRocAuc, pValue, significant: pValue < 0.05, f1: npMean(a.f1), foldsScored: a.model.length });
  }
  // Stable sort on ROC-AUC, descending (pandas sort_values keeps ties in insertion order too).
  return out.sort((x, y) => y.rocAuc - x.rocAuc);
}

export interface ClassifyOptions {
  ks?: number[];
  folds?: number;
  testSize?: number;
  seed?: number;
}

export interface ClassificationResult {
  nSamples: number;
  nFeatures: number;
  classes: Label[];
  classCounts: number[];
  folds: number;
  cv: { k: number; scores: number[]; mean: number; std: number }[];
  split: {
    testSize: number;
    seed: number;
    train: number[];
    test: number[];
    results: { k: number; accuracy: number; report: ClassificationReportDict; reportText: string }[];
  };
}

/** PROTOCOL.md §5: k-fold accuracy per k, then a stratified split with a per-class report. */
export function classifyFormats(X: MatrixLike | Dense, labels: ArrayLike<Label>, opts: ClassifyOptions = {}): ClassificationResult {
  const dense = toDense(X, 'profiles');
  if (dense.rows !== labels.length) throw new UserError(`${dense.rows} profiles but ${labels.length} labels`);
  // A classifier of one class scores 1.000 without learning anything, and one of no features cannot tell samples apart.
  if (dense.cols === 0) throw new UserError('the profiles have no features (0 values per sample): nothing to classify');
  const le = new LabelEncoder().fit(labels);
  if (le.classes.length < 2) {
    throw new UserError(`every sample has the same label (${String(le.classes[0])}): classifying needs at least two classes`);
  }
  const y = le.transform(labels);
  const ks = opts.ks ?? [3, 5, 7];
  const folds = opts.folds ?? 10;
  const testSize = opts.testSize ?? 0.2;
  const seed = opts.seed ?? 42;
  const cv = ks.map((k) => {
    const scores = crossValScore(new KNeighborsClassifier({ nNeighbors: k }), dense, y, { cv: folds });
    return { k, scores, mean: npMean(scores), std: npStd(scores) };
  });
  const idx = Array.from({ length: dense.rows }, (_, i) => i);
  const [train, test] = trainTestSplit(idx, { testSize, stratify: y, randomState: seed });
  const names = le.classes.map(String);
  const yTest = test.map((i) => y[i]);
  const results = ks.map((k) => {
    const knn = new KNeighborsClassifier({ nNeighbors: k }).fit(takeRows(dense, train), train.map((i) => y[i]));
    const pred = knn.predict(takeRows(dense, test));
    const accuracy = npMean(pred.map((v, i) => (v === yTest[i] ? 1 : 0)));
    const labelsAll = le.classes.map((_, i) => i);
    return {
      k,
      accuracy,
      report: classificationReport(yTest, pred, { labels: labelsAll, targetNames: names, outputDict: true }),
      reportText: classificationReport(yTest, pred, { labels: labelsAll, targetNames: names, digits: 3 }),
    };
  });
  return {
    nSamples: dense.rows,
    nFeatures: dense.cols,
    classes: le.classes,
    classCounts: bincount(y, le.classes.length),
    folds,
    cv,
    split: { testSize, seed, train, test, results },
  };
}

// ---- Text tables -------------------------------------------------------------------------------

const num = (x: number, d = 4): string => (Number.isFinite(x) ? pyFixed(x, d) : String(x));

export function formatPValue(p: number): string {
  if (!Number.isFinite(p)) return String(p);
  return p >= 1e-3 ? pyFixed(p, 4) : p.toExponential(2);
}

function table(header: string[], rows: string[][], alignLeft = 1): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((s, c) => (c < alignLeft ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatLabelBalance(classes: Label[], counts: number[]): string {
  const n = counts.reduce((a, b) => a + b, 0);
  return classes.map((c, i) => `${String(c)} ${counts[i]} (${pyFixed((100 * counts[i]) / n, 1)}%)`).join(', ');
}

/** The evaluation as the CLI prints it. */
export function formatEvaluation(r: EvaluationResult, title?: string): string {
  const lines: string[] = [];
  if (title) lines.push(title);
  lines.push(`samples: ${r.nSamples} × ${r.nFeatures} features`);
  lines.push(`labels:  ${formatLabelBalance(r.classes, r.classCounts)}${r.binary ? ` (positive class: ${String(r.classes[1])})` : ''}`);
  lines.push(`model:   kNN k=${r.k}, ${r.weights} weights, vs stratified dummy; ${r.folds}-fold stratified CV (shuffle, seed ${r.seed})`);
  lines.push('');
  lines.push(
    table(
      ['', 'ROC-AUC'],
      // significant = p < 0.05
      [
        ['model', num(r.modelRocAuc)],
        ['baseline', num(r.baselineRocAuc)],
        ['improvement', num(r.improvement)],
        ['t (paired)', num(r.tStatistic, 3)],
        ['p-value', formatPValue(r.pValue)],
        ['significant', r.significant ? 'yes' : 'no'],
      ],
    ),
  );
  lines.push('');
  lines.push(
    table(
      ['fold', 'model', 'baseline'],
      r.modelAucByFold.map((m, i) => [String(i + 1), num(m), num(r.baselineAucByFold[i])]),
    ),
  );
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export function formatGroupEvaluation(rows: GroupEvaluation[], groupName = 'group'): string {
  return table(
    [groupName, 'n', 'ROC-AUC', 'baseline', 'improvement', 'p-value', 'sig', 'F1', 'folds'],
    rows.map((g) => [
      String(g.group),
      String(g.sampleCount),
      num(g.rocAuc),
      num(g.baselineRocAuc),
      num(g.improvement),
      formatPValue(g.pValue),
      g.significant ? 'yes' : 'no',
      num(g.f1),
      String(g.foldsScored),
    ]),
  );
}

/** The classification as `classify_formats.py` prints it (3-decimal accuracies, digits=3 reports). */
export function formatClassification(r: ClassificationResult, title?: string): string {
  const lines: string[] = [];
  if (title) lines.push(title);
  lines.push(`Prepared ${r.nSamples} samples with ${r.nFeatures} features each.`);
  lines.push(`labels: ${formatLabelBalance(r.classes, r.classCounts)}`);
  lines.push('');
  lines.push(`${r.folds}-fold cross-validation:`);
  for (const c of r.cv) {
    lines.push(`k = ${c.k}:`);
    lines.push(`  Mean accuracy: ${pyFixed(c.mean, 3)} ± ${pyFixed(c.std, 3)}`);
    lines.push(`  Individual fold scores: ${c.scores.map((s) => pyFixed(s, 3)).join(' ')}`);
  }
  lines.push('');
  lines.push(`Train/test split (test size ${r.split.testSize}, stratified, seed ${r.split.seed}: ${r.split.train.length} train, ${r.split.test.length} test):`);
  for (const s of r.split.results) {
    lines.push(`k = ${s.k}: Test accuracy = ${pyFixed(s.accuracy, 3)}`);
    lines.push(s.reportText);
  }
  return lines.join('\n');
}
