/**
 * Brute-force Euclidean k-nearest neighbours and scikit-learn's `KNeighborsClassifier`.
 */
import { UserError } from '../util/errors.js';
import { encodeLabels, toDense, uniqueLabels, type Dense, type Label, type MatrixLike } from './numeric.js';
import type { Estimator } from './model-selection.js';

export interface Neighbors {
  /** [queries, k] Euclidean distances, ascending per row. */
  distances: Float64Array;
  /** [queries, k] indices into the fitted samples. */
  indices: Int32Array;
  k: number;
}

/** A max-heap of the best k (squared distance, index) pairs, ordered lexicographically. */
class BestK {
  readonly d: Float64Array;
  readonly i: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.d = new Float64Array(k);
    this.i = new Int32Array(k);
  }

  /** The current k-th squared distance (Infinity until k candidates are in). */
  bound(): number {
    return this.size === this.k ? this.d[0] : Infinity;
  }

  /** Offers a candidate; equal distances are decided by the lower index. */
  offer(s: number, j: number): void {
    const { d, i, k } = this;
    if (this.size < k) {
      let pos = this.size++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (d[parent] > s || (d[parent] === s && i[parent] > j)) break;
        d[pos] = d[parent];
        i[pos] = i[parent];
        pos = parent;
      }
      d[pos] = s;
      i[pos] = j;
      return;
    }
    if (s > d[0] || (s === d[0] && j > i[0])) return;
    let pos = 0;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= k) break;
      const r = l + 1;
      let c = l;
      if (r < k && (d[r] > d[l] || (d[r] === d[l] && i[r] > i[l]))) c = r;
      if (d[c] < s || (d[c] === s && i[c] < j)) break;
      d[pos] = d[c];
      i[pos] = i[c];
      pos = c;
    }
    d[pos] = s;
    i[pos] = j;
  }

  /** Writes the k neighbours sorted by (distance, index), as distances (not squared). */
  drain(distances: Float64Array, indices: Int32Array, offset: number): void {
    const order = Array.from({ length: this.k }, (_, r) => r).sort((a, b) => this.d[a] - this.d[b] || this.i[a] - this.i[b]);
    for (let r = 0; r < this.k; r++) {
      distances[offset + r] = Math.sqrt(this.d[order[r]]);
      indices[offset + r] = this.i[order[r]];
    }
    this.size = 0;
  }
}

/** Squared distance between row q of Q and row j of F, abandoned (returns > bound) once it exceeds bound. */
function sqDist(Q: Float64Array, qo: number, F: Float64Array, fo: number, d: number, bound: number): number {
  const d4 = d - (d % 4);
  let s = 0;
  let t = 0;
  for (; t < d4; t += 4) {
    const a = Q[qo + t] - F[fo + t];
    const b = Q[qo + t + 1] - F[fo + t + 1];
    const c = Q[qo + t + 2] - F[fo + t + 2];
    const e = Q[qo + t + 3] - F[fo + t + 3];
    s += a * a + b * b + (c * c + e * e);
    if (s > bound) return s;
  }
  for (; t < d; t++) {
    const a = Q[qo + t] - F[fo + t];
    s += a * a;
  }
  return s;
}

/**
 * A unit vector along which the fitted rows spread most (a few power iterations on the covariance
 * of up to 2,000 rows). Any unit vector gives a valid bound; a good one prunes more.
 */
function spreadDirection(F: Float64Array, n: number, d: number): Float64Array {
  const step = Math.max(1, Math.floor(n / 2000));
  const mean = new Float64Array(d);
  let m = 0;
  for (let r = 0; r < n; r += step, m++) for (let a = 0; a < d; a++) mean[a] += F[r * d + a];
  for (let a = 0; a < d; a++) mean[a] /= m;
  const cov = new Float64Array(d * d);
  const x = new Float64Array(d);
  for (let r = 0; r < n; r += step) {
    for (let a = 0; a < d; a++) x[a] = F[r * d + a] - mean[a];
    for (let a = 0; a < d; a++) {
      const xa = x[a];
      for (let b = 0; b < d; b++) cov[a * d + b] += xa * x[b];
    }
  }
  let u = new Float64Array(d).fill(1 / Math.sqrt(d));
  for (let it = 0; it < 30; it++) {
    const v = new Float64Array(d);
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += cov[a * d + b] * u[b];
      v[a] = s;
    }
    let norm = 0;
    for (let a = 0; a < d; a++) norm += v[a] * v[a];
    norm = Math.sqrt(norm);
    if (!(norm > 0)) break;
    for (let a = 0; a < d; a++) v[a] /= norm;
    u = v;
  }
  return u;
}

/**
 * The k nearest fitted rows of every query row, by exact Euclidean distance. Ties at equal
 * distance go to the lower index, as scikit-learn's heap keeps the first of equals it meets.
 *
 * Exact search, made fast two ways that cannot change a result: the fitted rows are sorted by their
 * projection on one direction, and a query scans outwards from its own projection, stopping once
 * the projection gap alone exceeds the current k-th distance (|u·(q−x)| ≤ ‖q−x‖ for a unit u,
 * with a margin for rounding); and a candidate's sum of squares is abandoned as soon as it passes
 * the k-th distance (the sum only grows).
 *
 * `excludeSelf`: query i is fitted row i and must not count as its own neighbour (scikit-learn's
 * `kneighbors()` without X).
 */
export function kNeighbors(fit: Dense, query: Dense, k: number, excludeSelf = false): Neighbors {
  const d = fit.cols;
  if (query.cols !== d) throw new UserError(`kNeighbors: queries have ${query.cols} features but the fitted data has ${d}`);
  const available = fit.rows - (excludeSelf ? 1 : 0);
  if (!Number.isInteger(k) || k < 1) throw new UserError(`nNeighbors must be a positive integer, got ${k}`);
  if (k > available) throw new UserError(`nNeighbors=${k} is more than the ${available} samples available to search`);
  const F = fit.data;
  const Q = query.data;
  const nFit = fit.rows;
  const distances = new Float64Array(query.rows * k);
  const indices = new Int32Array(query.rows * k);
  const best = new BestK(k);

  if (nFit < 256 || d < 2) {
    for (let q = 0; q < query.rows; q++) {
      for (let j = 0; j < nFit; j++) {
        if (excludeSelf && j === q) continue;
        const bound = best.bound();
        const s = sqDist(Q, q * d, F, j * d, d, bound);
        if (s <= bound) best.offer(s, j);
      }
      best.drain(distances, indices, q * k);
    }
    return { distances, indices, k };
  }

  const u = spreadDirection(F, nFit, d);
  const proj = new Float64Array(nFit);
  let maxAbs = 0;
  for (let j = 0; j < nFit; j++) {
    let s = 0;
    for (let a = 0; a < d; a++) s += F[j * d + a] * u[a];
    proj[j] = s;
    maxAbs = Math.max(maxAbs, Math.abs(s));
  }
  const order = Int32Array.from({ length: nFit }, (_, j) => j).sort((a, b) => proj[a] - proj[b]);
  const sortedProj = Float64Array.from(order, (j) => proj[j]);
  // Rows copied in projection order, so the scan reads memory sequentially.
  const Fs = new Float64Array(nFit * d);
  for (let r = 0; r < nFit; r++) Fs.set(F.subarray(order[r] * d, order[r] * d + d), r * d);

  for (let q = 0; q < query.rows; q++) {
    const qo = q * d;
    let pq = 0;
    for (let a = 0; a < d; a++) pq += Q[qo + a] * u[a];
    const margin = 1e-9 * (1 + maxAbs + Math.abs(pq));
    // First sorted position with projection >= pq.
    let lo = 0;
    let hi = nFit;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sortedProj[mid] < pq) lo = mid + 1;
      else hi = mid;
    }
    let left = lo - 1;
    let right = lo;
    while (left >= 0 || right < nFit) {
      const gapL = left >= 0 ? pq - sortedProj[left] : Infinity;
      const gapR = right < nFit ? sortedProj[right] - pq : Infinity;
      const takeLeft = gapL <= gapR;
      const gap = takeLeft ? gapL : gapR;
      const bound = best.bound();
      if (bound !== Infinity && gap > Math.sqrt(bound) + margin) break;
      const r = takeLeft ? left-- : right++;
      const j = order[r];
      if (excludeSelf && j === q) continue;
      const s = sqDist(Q, qo, Fs, r * d, d, bound);
      if (s <= bound) best.offer(s, j);
    }
    best.drain(distances, indices, q * k);
  }
  return { distances, indices, k };
}

export type KNeighborsWeights = 'uniform' | 'distance';

export interface KNeighborsOptions {
  nNeighbors?: number;
  weights?: KNeighborsWeights;
}

/**
 * scikit-learn's `KNeighborsClassifier` with the Euclidean metric. `predictProba` adds each
 * neighbour's weight to its class in distance order and normalises by the row total; with
 * `distance` weights a query that sits exactly on training points gets weight 1 for those
 * points and 0 for the rest.
 */
export class KNeighborsClassifier<L extends Label = number> implements Estimator {
  readonly nNeighbors: number;
  readonly weights: KNeighborsWeights;
  classes: L[] = [];
  private fitX?: Dense;
  private fitY?: Int32Array;

  constructor(opts: KNeighborsOptions = {}) {
    this.nNeighbors = opts.nNeighbors ?? 5;
    this.weights = opts.weights ?? 'uniform';
    if (this.weights !== 'uniform' && this.weights !== 'distance') {
      throw new UserError(`KNeighborsClassifier: weights must be 'uniform' or 'distance', got '${String(this.weights)}'`);
    }
  }

  clone(): KNeighborsClassifier<L> {
    return new KNeighborsClassifier<L>({ nNeighbors: this.nNeighbors, weights: this.weights });
  }

  fit(X: MatrixLike | Dense, y: ArrayLike<L>): this {
    const dense = toDense(X);
    if (dense.rows !== y.length) throw new UserError(`KNeighborsClassifier.fit: X has ${dense.rows} samples but y has ${y.length}`);
    this.classes = uniqueLabels(y) as L[];
    this.fitY = encodeLabels(y, this.classes);
    this.fitX = dense;
    return this;
  }

  kneighbors(X: MatrixLike | Dense): Neighbors {
    if (!this.fitX) throw new UserError('KNeighborsClassifier: call fit() before predicting');
    return kNeighbors(this.fitX, toDense(X), this.nNeighbors);
  }

  /** Class probabilities as a flat [queries, classes] array. */
  predictProbaFlat(X: MatrixLike | Dense): { proba: Float64Array; rows: number } {
    const nb = this.kneighbors(X);
    const y = this.fitY as Int32Array;
    const C = this.classes.length;
    const k = nb.k;
    const rows = nb.distances.length / k;
    const proba = new Float64Array(rows * C);
    const w = new Float64Array(k);
    for (let q = 0; q < rows; q++) {
      if (this.weights === 'uniform') {
        w.fill(1);
      } else {
        let onPoint = false;
        for (let r = 0; r < k; r++) if (nb.distances[q * k + r] === 0) onPoint = true;
        for (let r = 0; r < k; r++) {
          const dist = nb.distances[q * k + r];
          w[r] = onPoint ? (dist === 0 ? 1 : 0) : 1 / dist;
        }
      }
      const o = q * C;
      for (let r = 0; r < k; r++) proba[o + y[nb.indices[q * k + r]]] += w[r];
      let norm = 0;
      for (let c = 0; c < C; c++) norm += proba[o + c];
      if (norm === 0) norm = 1;
      for (let c = 0; c < C; c++) proba[o + c] /= norm;
    }
    return { proba, rows };
  }

  predictProba(X: MatrixLike | Dense): number[][] {
    const { proba, rows } = this.predictProbaFlat(X);
    const C = this.classes.length;
    return Array.from({ length: rows }, (_, q) => Array.from(proba.subarray(q * C, (q + 1) * C)));
  }

  /** The most probable class per row (the smallest class wins ties, as scikit-learn's mode). */
  predict(X: MatrixLike | Dense): L[] {
    const { proba, rows } = this.predictProbaFlat(X);
    const C = this.classes.length;
    const out: L[] = [];
    for (let q = 0; q < rows; q++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (proba[q * C + c] > proba[q * C + best]) best = c;
      out.push(this.classes[best]);
    }
    return out;
  }

  score(X: MatrixLike | Dense, y: ArrayLike<Label>): number {
    const pred = this.predict(X);
    let hit = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === y[i]) hit++;
    return hit / pred.length;
  }
}
