/**
 * Principal component analysis with scikit-learn's conventions: centred data, components in
 * decreasing variance, each component's sign chosen so that the largest-magnitude score of that
 * component is positive (`svd_flip` on U, as scikit-learn ≤ 1.4 does for PCA).
 */
import { UserError } from '../util/errors.js';
import { toDense, type Dense, type MatrixLike } from './numeric.js';

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: accurate to machine
 * precision for well-separated eigenvalues, and small enough to write without a LAPACK.
 * Returns eigenvalues (unsorted) and eigenvectors as columns of a row-major d×d matrix.
 */
export function symmetricEigen(A: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let total = 0;
  for (let i = 0; i < d * d; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
    if (off <= 1e-32 * total || off === 0) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

export interface PCAOptions {
  /** Components to keep (default: all, min(samples, features)). */
  nComponents?: number;
}

/**
 * `PCA` by the exact (full) decomposition. scikit-learn's `svd_solver='auto'` switches to a
 * randomized SVD above 500 rows or columns, whose result depends on an unseeded generator; the
 * exact components are what that solver approximates.
 */
export class PCA {
  readonly nComponents?: number;
  components: number[][] = [];
  explainedVariance: number[] = [];
  explainedVarianceRatio: number[] = [];
  singularValues: number[] = [];
  mean: number[] = [];
  nSamples = 0;
  nFeatures = 0;

  constructor(opts: PCAOptions = {}) {
    this.nComponents = opts.nComponents;
  }

  fit(X: MatrixLike | Dense): this {
    this.fitScores(toDense(X));
    return this;
  }

  fitTransform(X: MatrixLike | Dense): number[][] {
    return this.fitScores(toDense(X));
  }

  private fitScores(X: Dense): number[][] {
    const { rows: n, cols: d, data } = X;
    const maxK = Math.min(n, d);
    const k = this.nComponents ?? maxK;
    if (!Number.isInteger(k) || k < 1 || k > maxK) {
      throw new UserError(`PCA: nComponents=${k} must be an integer between 1 and min(samples, features) = ${maxK}`);
    }
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= n;
    const Xc = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) Xc[i * d + j] = data[i * d + j] - mean[j];
    // Gram matrix Xcᵀ Xc; its eigenvectors are the right singular vectors of Xc.
    const G = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let p = 0; p < d; p++) {
        const xp = Xc[o + p];
        if (xp === 0) continue;
        for (let q = p; q < d; q++) G[p * d + q] += xp * Xc[o + q];
      }
    }
    for (let p = 0; p < d; p++) for (let q = 0; q < p; q++) G[p * d + q] = G[q * d + p];
    const { values, vectors } = symmetricEigen(G, d);
    const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => values[b] - values[a]);
    let totalSq = 0;
    for (let i = 0; i < n * d; i++) totalSq += Xc[i] * Xc[i];
    const totalVar = totalSq / (n - 1);

    this.components = [];
    this.singularValues = [];
    this.explainedVariance = [];
    this.explainedVarianceRatio = [];
    const scores: number[][] = Array.from({ length: n }, () => new Array<number>(k).fill(0));
    for (let c = 0; c < k; c++) {
      const col = order[c];
      const comp = Array.from({ length: d }, (_, j) => vectors[j * d + col]);
      // Scores along this component; flip so the largest |score| is positive (svd_flip on U).
      let best = 0;
      let bestAbs = -1;
      const sc = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += Xc[i * d + j] * comp[j];
        sc[i] = s;
        if (Math.abs(s) > bestAbs) {
          bestAbs = Math.abs(s);
          best = i;
        }
      }
      const sign = sc[best] < 0 ? -1 : 1;
      this.components.push(comp.map((v) => v * sign));
      for (let i = 0; i < n; i++) scores[i][c] = sc[i] * sign;
      const ev = Math.max(values[col], 0);
      this.singularValues.push(Math.sqrt(ev));
      this.explainedVariance.push(ev / (n - 1));
      this.explainedVarianceRatio.push(ev / (n - 1) / totalVar);
    }
    this.mean = Array.from(mean);
    this.nSamples = n;
    this.nFeatures = d;
    return scores;
  }

  transform(X: MatrixLike | Dense): number[][] {
    if (this.components.length === 0) throw new UserError('PCA: call fit() before transform()');
    const D = toDense(X);
    if (D.cols !== this.nFeatures) throw new UserError(`PCA.transform: X has ${D.cols} features, the fitted data had ${this.nFeatures}`);
    const out: number[][] = [];
    for (let i = 0; i < D.rows; i++) {
      const row = this.components.map((comp) => {
        let s = 0;
        for (let j = 0; j < D.cols; j++) s += (D.data[i * D.cols + j] - this.mean[j]) * comp[j];
        return s;
      });
      out.push(row);
    }
    return out;
  }
}
