/**
 * scikit-learn's classification metrics: ROC-AUC (binary and one-vs-rest), accuracy,
 * precision/recall/F1 and `classification_report`.
 */
import { UserError } from '../util/errors.js';
import { encodeLabels, npSum, uniqueLabels, type Label } from './numeric.js';

/**
 * Area under the ROC curve of one binary problem, as `_binary_roc_auc_score`: thresholds at the
 * distinct scores (ties form one step), collinear points dropped, trapezoids summed in NumPy's
 * order.
 */
export function binaryRocAuc(positive: ArrayLike<boolean | number>, scores: ArrayLike<number>): number {
  const n = scores.length;
  if (positive.length !== n) throw new UserError(`rocAucScore: ${positive.length} labels but ${n} scores`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  // Cumulative true/false positives at the last index of every run of equal scores.
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r];
    const s = scores[i];
    if (Number.isNaN(s)) throw new UserError('rocAucScore: scores contain NaN');
    if (positive[i]) tp++;
    if (r === n - 1 || scores[order[r + 1]] !== s) {
      tps.push(tp);
      fps.push(r + 1 - tp);
    }
  }
  const totalP = tps[tps.length - 1];
  const totalN = fps[fps.length - 1];
  if (totalP === 0 || totalN === 0) {
    throw new UserError('rocAucScore: only one class present in yTrue; ROC AUC is not defined in that case');
  }
  // drop_intermediate: keep the ends and every point where the curve bends.
  const keepT: number[] = [0];
  const keepF: number[] = [0];
  for (let i = 0; i < tps.length; i++) {
    const ends = i === 0 || i === tps.length - 1;
    const bends = !ends && (fps[i - 1] - 2 * fps[i] + fps[i + 1] !== 0 || tps[i - 1] - 2 * tps[i] + tps[i + 1] !== 0);
    if (ends || bends) {
      keepT.push(tps[i]);
      keepF.push(fps[i]);
    }
  }
  const m = keepT.length;
  const parts = new Float64Array(m - 1);
  for (let i = 1; i < m; i++) {
    const dx = keepF[i] / totalN - keepF[i - 1] / totalN;
    parts[i - 1] = (dx * (keepT[i] / totalP + keepT[i - 1] / totalP)) / 2.0;
  }
  return npSum(parts);
}

export interface RocAucOptions {
  /** Multiclass strategy: only one-vs-rest, as the protocol uses. */
  multiClass?: 'ovr' | 'raise';
  average?: 'macro' | 'weighted' | 'micro';
  /** The classes the score columns stand for (default: the sorted classes of yTrue). */
  labels?: readonly Label[];
}

/**
 * `roc_auc_score`. Binary: `scores` are the scores of the greater class (a two-column matrix is
 * taken at column 1). Multiclass: `scores` are class probabilities (columns in sorted class
 * order) and the result averages the one-vs-rest AUCs.
 */
export function rocAucScore(yTrue: ArrayLike<Label>, scores: ArrayLike<number> | ReadonlyArray<ArrayLike<number>>, opts: RocAucOptions = {}): number {
  const classes = opts.labels ? [...opts.labels] : uniqueLabels(yTrue, 'yTrue');
  const is2d = scores.length > 0 && typeof scores[0] === 'object';
  if (classes.length <= 2 && !opts.labels) {
    if (classes.length < 2) throw new UserError('rocAucScore: only one class present in yTrue; ROC AUC is not defined in that case');
    const s = is2d ? column(scores as ReadonlyArray<ArrayLike<number>>, 1) : (scores as ArrayLike<number>);
    const codes = encodeLabels(yTrue, classes, 'yTrue');
    return binaryRocAuc(codes, s);
  }
  if (!is2d) throw new UserError(`rocAucScore: yTrue has ${classes.length} classes, so scores must be one row of class probabilities per sample`);
  if (opts.multiClass === 'raise') throw new UserError("rocAucScore: multiclass targets need multiClass: 'ovr'");
  const S = scores as ReadonlyArray<ArrayLike<number>>;
  const C = S[0].length;
  if (C !== classes.length) {
    throw new UserError(`rocAucScore: number of classes in yTrue (${classes.length}) not equal to the number of columns in scores (${C})`);
  }
  for (let i = 0; i < S.length; i++) {
    let t = 0;
    for (let c = 0; c < C; c++) t += S[i][c];
    if (!(Math.abs(1 - t) <= 1e-8 + 1e-5 * Math.abs(t))) {
      throw new UserError(`rocAucScore: scores row ${i} sums to ${t}; multiclass ROC AUC needs probabilities that sum to 1 over classes`);
    }
  }
  const codes = encodeLabels(yTrue, classes, 'yTrue');
  const average = opts.average ?? 'macro';
  if (average === 'micro') {
    const flatY = new Uint8Array(S.length * C);
    const flatS = new Float64Array(S.length * C);
    for (let i = 0; i < S.length; i++) for (let c = 0; c < C; c++) {
      flatY[i * C + c] = codes[i] === c ? 1 : 0;
      flatS[i * C + c] = S[i][c];
    }
    return binaryRocAuc(flatY, flatS);
  }
  const per = new Float64Array(C);
  const support = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const pos = Array.from(codes, (k) => k === c);
    support[c] = pos.filter(Boolean).length;
    per[c] = binaryRocAuc(pos, column(S, c));
  }
  if (average === 'weighted') {
    const w = per.map((p, c) => p * support[c]);
    return npSum(w) / npSum(support);
  }
  return npSum(per) / C;
}

function column(S: ReadonlyArray<ArrayLike<number>>, c: number): Float64Array {
  return Float64Array.from(S, (row) => row[c]);
}

export function accuracyScore(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>): number {
  if (yTrue.length !== yPred.length) throw new UserError(`accuracyScore: ${yTrue.length} true labels but ${yPred.length} predictions`);
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

export interface PrfSupport {
  labels: Label[];
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
}

/** Per-class precision, recall, F1 and support; 0 where a ratio is 0/0 (scikit-learn's zero_division="warn"). */
export function precisionRecallFscoreSupport(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, labels?: readonly Label[]): PrfSupport {
  if (yTrue.length !== yPred.length) throw new UserError(`classification metrics: ${yTrue.length} true labels but ${yPred.length} predictions`);
  const all = labels ? [...labels] : uniqueLabels([...Array.from(yTrue), ...Array.from(yPred)]);
  const t = encodeLabels(yTrue, all, 'yTrue');
  const p = encodeLabels(yPred, all, 'yPred');
  const C = all.length;
  const tp = new Array<number>(C).fill(0);
  const predSum = new Array<number>(C).fill(0);
  const trueSum = new Array<number>(C).fill(0);
  for (let i = 0; i < t.length; i++) {
    predSum[p[i]]++;
    trueSum[t[i]]++;
    if (t[i] === p[i]) tp[t[i]]++;
  }
  const precision = tp.map((x, c) => (predSum[c] === 0 ? 0 : x / predSum[c]));
  const recall = tp.map((x, c) => (trueSum[c] === 0 ? 0 : x / trueSum[c]));
  const f1 = precision.map((pr, c) => {
    const denom = pr + recall[c];
    return denom === 0 ? 0 : (2 * pr * recall[c]) / denom;
  });
  return { labels: all, precision, recall, f1, support: trueSum };
}

export function f1Score(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, opts: { average?: 'macro' | 'weighted' } = {}): number {
  const r = precisionRecallFscoreSupport(yTrue, yPred);
  if (opts.average === 'weighted') return npSum(r.f1.map((f, c) => f * r.support[c])) / npSum(r.support);
  return npSum(r.f1) / r.f1.length;
}

export interface ReportRow {
  precision: number;
  recall: number;
  'f1-score': number;
  support: number;
}

/** `classification_report(output_dict=True)`: a row per class, then accuracy, macro and weighted averages. */
export type ClassificationReportDict = Record<string, ReportRow | number>;

export interface ClassificationReportOptions {
  labels?: readonly Label[];
  targetNames?: readonly string[];
  digits?: number;
  outputDict?: boolean;
}

export function classificationReport(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, opts: ClassificationReportOptions & { outputDict: true }): ClassificationReportDict;
export function classificationReport(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, opts?: ClassificationReportOptions & { outputDict?: false }): string;
export function classificationReport(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, opts: ClassificationReportOptions = {}): ClassificationReportDict | string {
  const r = precisionRecallFscoreSupport(yTrue, yPred, opts.labels);
  const names = opts.targetNames ? [...opts.targetNames] : r.labels.map((l) => String(l === true ? 'True' : l === false ? 'False' : l));
  if (names.length !== r.labels.length) {
    throw new UserError(`classificationReport: ${names.length} target names for ${r.labels.length} classes`);
  }
  const present = uniqueLabels([...Array.from(yTrue), ...Array.from(yPred)]);
  const microIsAccuracy = !opts.labels || present.every((l) => r.labels.includes(l));
  const total = npSum(r.support);
  const dict: ClassificationReportDict = {};
  names.forEach((name, c) => {
    dict[name] = { precision: r.precision[c], recall: r.recall[c], 'f1-score': r.f1[c], support: r.support[c] };
  });
  let tpTotal = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i] && r.labels.includes(yTrue[i])) tpTotal++;
  let predTotal = 0;
  for (let i = 0; i < yPred.length; i++) if (r.labels.includes(yPred[i])) predTotal++;
  const micro = predTotal === 0 ? 0 : tpTotal / predTotal;
  if (microIsAccuracy) {
    dict.accuracy = micro;
  } else {
    const microRecall = total === 0 ? 0 : tpTotal / total;
    const microF1 = micro + microRecall === 0 ? 0 : (2 * micro * microRecall) / (micro + microRecall);
    dict['micro avg'] = { precision: micro, recall: microRecall, 'f1-score': microF1, support: total };
  }
  const C = r.labels.length;
  dict['macro avg'] = { precision: npSum(r.precision) / C, recall: npSum(r.recall) / C, 'f1-score': npSum(r.f1) / C, support: total };
  const weighted = (v: number[]): number => (total === 0 ? 0 : npSum(v.map((x, c) => x * r.support[c])) / total);
  dict['weighted avg'] = { precision: weighted(r.precision), recall: weighted(r.recall), 'f1-score': weighted(r.f1), support: total };
  if (opts.outputDict) return dict;
  return formatReport(dict, names, opts.digits ?? 2);
}

/** Python's `format(x, '.{d}f')`: exact decimal rounding with ties to even (JS toFixed rounds ties up). */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  const mag = Math.abs(x);
  const sign = x < 0 ? '-' : '';
  // toFixed is exact; 30 extra digits are enough to see whether the dropped part is exactly one half.
  const wide = mag.toFixed(digits + 30);
  const cut = wide.indexOf('.') + (digits > 0 ? 1 + digits : 0);
  const kept = wide.slice(0, cut);
  const dropped = wide.slice(wide.indexOf('.') + 1 + digits);
  const lastKept = Number(kept.replace('.', '').slice(-1));
  if (/^50*$/.test(dropped) && lastKept % 2 === 0) return sign + kept;
  return sign + mag.toFixed(digits);
}

function formatReport(dict: ClassificationReportDict, names: string[], digits: number): string {
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  const width = Math.max(...names.map((n) => n.length), 'weighted avg'.length, digits);
  const right = (s: string, w: number): string => s.padStart(w);
  let out = right('', width) + ' ' + headers.map((h) => ' ' + right(h, 9)).join('') + '\n\n';
  const row = (name: string, v: ReportRow): string =>
    right(name, width) + ' ' + [v.precision, v.recall, v['f1-score']].map((x) => ' ' + right(pyFixed(x, digits), 9)).join('') + ' ' + right(String(v.support), 9) + '\n';
  for (const n of names) out += row(n, dict[n] as ReportRow);
  out += '\n';
  if (typeof dict.accuracy === 'number') {
    const support = (dict['macro avg'] as ReportRow).support;
    out += right('accuracy', width) + ' ' + ' ' + right('', 9) + ' ' + right('', 9) + ' ' + right(pyFixed(dict.accuracy, digits), 9) + ' ' + right(String(support), 9) + '\n';
  } else {
    out += row('micro avg', dict['micro avg'] as ReportRow);
  }
  out += row('macro avg', dict['macro avg'] as ReportRow);
  out += row('weighted avg', dict['weighted avg'] as ReportRow);
  return out;
}
