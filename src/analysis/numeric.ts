/**
 * Numerical building blocks shared by the analysis room: dense matrices, NumPy's summation order,
 * label handling.
 */
import { UserError } from '../util/errors.js';

/** A label as scikit-learn accepts them: strings, numbers or booleans (never mixed). */
export type Label = string | number | boolean;

/** Rows of features: `number[][]` or rows of typed arrays. */
export type MatrixLike = ReadonlyArray<ArrayLike<number>>;

/** A dense row-major float64 matrix. */
export interface Dense {
  data: Float64Array;
  rows: number;
  cols: number;
}

export function toDense(X: MatrixLike | Dense, what = 'X'): Dense {
  if (isDense(X)) return X;
  const rows = X.length;
  if (rows === 0) throw new UserError(`${what} has no rows: pass at least one sample`);
  const cols = X[0].length;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const r = X[i];
    if (r.length !== cols) {
      throw new UserError(`${what} is ragged: row ${i} has ${r.length} features, row 0 has ${cols}; every sample needs the same number of features`);
    }
    for (let j = 0; j < cols; j++) {
      const v = r[j];
      if (!Number.isFinite(v)) throw new UserError(`${what}[${i}][${j}] is ${v}: features must be finite numbers`);
      data[i * cols + j] = v;
    }
  }
  return { data, rows, cols };
}

export function isDense(X: unknown): X is Dense {
  return typeof X === 'object' && X !== null && (X as Dense).data instanceof Float64Array && typeof (X as Dense).rows === 'number';
}

/** The rows `idx` of X as a new dense matrix. */
export function takeRows(X: Dense, idx: ArrayLike<number>): Dense {
  const { cols } = X;
  const data = new Float64Array(idx.length * cols);
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i] * cols;
    data.set(X.data.subarray(src, src + cols), i * cols);
  }
  return { data, rows: idx.length, cols };
}

/**
 * NumPy's `add.reduce` over a contiguous float64 vector: pairwise summation (blocks of up to 128
 * summed with eight accumulators). Matching its order keeps means bit-identical to the Python
 * reference rather than merely close.
 */
export function npSum(a: ArrayLike<number>, start = 0, end = a.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  return pairwise(a, start, n);
}

function pairwise(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4], a[start + 5], a[start + 6], a[start + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    }
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, start, n2) + pairwise(a, start + n2, n - n2);
}

/** `np.mean`. */
export function npMean(a: ArrayLike<number>): number {
  return npSum(a) / a.length;
}

/** `np.var(a, ddof)`: mean of squared deviations from `np.mean`, times n/(n-ddof). */
export function npVar(a: ArrayLike<number>, ddof = 0): number {
  const n = a.length;
  const m = npMean(a);
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = a[i] - m;
    sq[i] = d * d;
  }
  return npSum(sq) / (n - ddof);
}

/** `np.std(a, ddof)`. */
export function npStd(a: ArrayLike<number>, ddof = 0): number {
  return Math.sqrt(npVar(a, ddof));
}

/** Sort order of labels as NumPy sorts them (numbers numerically, strings by code point, false < true). */
export function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The sorted distinct labels (`np.unique`), refusing mixed kinds the way NumPy's sort would. */
export function uniqueLabels(y: ArrayLike<Label>, what = 'y'): Label[] {
  const seen = new Map<Label, true>();
  let kind: 'string' | 'number' | undefined;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) {
      throw new UserError(`${what}[${i}] is missing (${String(v)}): drop unlabelled samples before fitting`);
    }
    const k = typeof v === 'string' ? 'string' : 'number';
    if (kind === undefined) kind = k;
    else if (kind !== k) throw new UserError(`${what} mixes strings and numbers (at ${i}): use one kind of label`);
    seen.set(v, true);
  }
  return [...seen.keys()].sort(compareLabels);
}

/** Indices of `y` in `classes` (which must contain every value). */
export function encodeLabels(y: ArrayLike<Label>, classes: readonly Label[], what = 'y'): Int32Array {
  const index = new Map<Label, number>();
  classes.forEach((c, i) => index.set(c, i));
  // Booleans and 0/1 compare equal in NumPy; map both ways so either spelling finds its class.
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    let k = index.get(y[i]);
    if (k === undefined && typeof y[i] === 'boolean') k = index.get(Number(y[i]));
    if (k === undefined && typeof y[i] === 'number') k = index.get(y[i] === 1 ? true : y[i] === 0 ? false : NaN);
    if (k === undefined) throw new UserError(`${what}[${i}] = ${JSON.stringify(y[i])} is not one of the known classes ${JSON.stringify(classes)}`);
    out[i] = k;
  }
  return out;
}

export function bincount(codes: ArrayLike<number>, minlength = 0): number[] {
  let n = minlength;
  for (let i = 0; i < codes.length; i++) if (codes[i] + 1 > n) n = codes[i] + 1;
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < codes.length; i++) out[codes[i]]++;
  return out;
}
