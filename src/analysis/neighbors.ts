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

/**
 * The k nearest fitted rows of every query row. Ties at equal distance go to the lower index, as
 * scikit-learn's heap keeps the first of equals it meets. A candidate is abandoned as soon as its
 * partial sum of squares reaches the current k-th distance, which skips most of the work on
 * real data without changing any result (the sum only grows).
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
  // A max-heap on (squared distance, index) of the best k so far.
  const hd = new Float64Array(k);
  const hi = new Int32Array(k);
  const d4 = d - (d % 4);

  for (let q = 0; q < query.rows; q++) {
    const qo = q * d;
    let size = 0;
    for (let j = 0; j < nFit; j++) {
      if (excludeSelf && j === q) continue;
      const bound = size === k ? hd[0] : Infinity;
      const fo = j * d;
      let s = 0;
      let t = 0;
      for (; t < d4; t += 4) {
        const a = Q[qo + t] - F[fo + t];
        const b = Q[qo + t + 1] - F[fo + t + 1];
        const c = Q[qo + t + 2] - F[fo + t + 2];
        const e = Q[qo + t + 3] - F[fo + t + 3];
        s += a * a + b * b + (c * c + e * e);
        if (s >= bound) break;
      }
      if (s >= bound) continue;
      for (; t < d; t++) {
        const a = Q[qo + t] - F[fo + t];
        s += a * a;
      }
      if (s >= bound) continue;
      if (size < k) {
        // Sift up.
        let pos = size++;
        while (pos > 0) {
          const parent = (pos - 1) >> 1;
          if (hd[parent] > s || (hd[parent] === s && hi[parent] > j)) break;
          hd[pos] = hd[parent];
          hi[pos] = hi[parent];
          pos = parent;
        }
        hd[pos] = s;
        hi[pos] = j;
      } else {
        // Replace the root and sift down.
        let pos = 0;
        for (;;) {
          const l = 2 * pos + 1;
          if (l >= k) break;
          const r = l + 1;
          let c = l;
          if (r < k && (hd[r] > hd[l] || (hd[r] === hd[l] && hi[r] > hi[l]))) c = r;
          if (hd[c] < s || (hd[c] === s && hi[c] < j)) break;
          hd[pos] = hd[c];
          hi[pos] = hi[c];
          pos = c;
        }
        hd[pos] = s;
        hi[pos] = j;
      }
    }
    // Sort the k by (distance, index).
    const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => hd[a] - hd[b] || hi[a] - hi[b]);
    for (let r = 0; r < k; r++) {
      distances[q * k + r] = Math.sqrt(hd[order[r]]);
      indices[q * k + r] = hi[order[r]];
    }
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
