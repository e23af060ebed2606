/**
 * t-SNE with scikit-learn's algorithm and defaults, and `trustworthiness`.
 *
 * Same steps as scikit-learn 1.2: perplexity-calibrated conditional probabilities (binary search on
 * the precision, tolerance 1e-5, 100 steps) over the 3·perplexity+1 nearest neighbours
 * (Barnes-Hut) or all points (exact), symmetrised and normalised; a Student-t kernel with one
 * degree of freedom; gradient descent with momentum 0.5 and early exaggeration 12 for the first
 * 250 iterations, then momentum 0.8; per-coordinate gains (+0.2 / ×0.8, floor 0.01); learning rate
 * `auto` = max(n / 12 / 4, 50); PCA initialisation scaled to std 1e-4; a Barnes-Hut quadtree with
 * angle θ = 0.5. The reported KL is scikit-learn's: the value from the last gradient evaluation
 * (before the last step), for Barnes-Hut with Q normalised by the tree's approximate sum.
 *
 * Precision: the initial embedding, P as the Barnes-Hut code sees it, and every optimiser step
 * (update, gains, coordinates) are rounded to float32 as in scikit-learn; the gradient is computed
 * in float64 where scikit-learn's Barnes-Hut code uses float32. From the same embedding P, the KL
 * and the gradient agree with scikit-learn's to ~1e-6 relative, but the exaggerated phase
 * amplifies such differences to order 1 within ~50 iterations (t-SNE is chaotic: scikit-learn's
 * own final KL from 7 starts 1e-6 apart spans 1–24 % of its median on the sets of
 * tools/tsne-compare), so a run ends in another local optimum than scikit-learn's from the same
 * start; over starts the KL and trustworthiness have the same distribution.
 */
import { UserError } from '../util/errors.js';
import { kNeighbors } from './neighbors.js';
import { toDense, type Dense, type MatrixLike } from './numeric.js';
import { PCA } from './decomposition.js';
import { checkRandomState, type RandomStateLike } from './random.js';

const MACHINE_EPSILON = 2.220446049250313e-16;
const FLOAT32_TINY = 1.1754943508222875e-38;
const PERPLEXITY_TOLERANCE = 1e-5;
const EXPLORATION_N_ITER = 250;
const f32 = Math.fround;
const N_ITER_CHECK = 50;

/** Row-wise conditional probabilities from squared distances (`_binary_search_perplexity`). */
/** @internal exported for tests */
export function binarySearchPerplexity(sqd: Float64Array, rows: number, cols: number, perplexity: number, selfColumn: boolean): Float64Array {
  const P = new Float64Array(rows * cols);
  const desiredEntropy = Math.log(perplexity);
  for (let i = 0; i < rows; i++) {
    let betaMin = -Infinity;
    let betaMax = Infinity;
    let beta = 1.0;
    const o = i * cols;
    for (let step = 0; step < 100; step++) {
      let sumP = 0;
      for (let j = 0; j < cols; j++) {
        if (selfColumn && j === i) continue;
        const v = Math.exp(-sqd[o + j] * beta);
        P[o + j] = v;
        sumP += v;
      }
      if (sumP === 0) sumP = 1e-8;
      let sumDistP = 0;
      for (let j = 0; j < cols; j++) {
        P[o + j] /= sumP;
        sumDistP += sqd[o + j] * P[o + j];
      }
      const entropy = Math.log(sumP) + beta * sumDistP;
      const diff = entropy - desiredEntropy;
      if (Math.abs(diff) <= PERPLEXITY_TOLERANCE) break;
      if (diff > 0) {
        betaMin = beta;
        beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
      } else {
        betaMax = beta;
        beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
      }
    }
  }
  return P;
}

/** A symmetric sparse matrix in CSR form. */
interface Csr {
  indptr: Int32Array;
  indices: Int32Array;
  data: Float64Array;
}

/** P = (P_cond + P_condᵀ) / sum, from each row's neighbour list. */
function symmetrize(n: number, nbr: Int32Array, k: number, cond: Float64Array): Csr {
  const rows: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const j = nbr[i * k + r];
      const v = cond[i * k + r];
      rows[i].set(j, (rows[i].get(j) ?? 0) + v);
      rows[j].set(i, (rows[j].get(i) ?? 0) + v);
    }
  }
  let nnz = 0;
  for (const m of rows) nnz += m.size;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let pos = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    indptr[i] = pos;
    for (const [j, v] of [...rows[i].entries()].sort((a, b) => a[0] - b[0])) {
      indices[pos] = j;
      data[pos] = v;
      total += v;
      pos++;
    }
  }
  indptr[n] = pos;
  const norm = Math.max(total, MACHINE_EPSILON);
  for (let i = 0; i < nnz; i++) data[i] /= norm;
  return { indptr, indices, data };
}

/**
 * A 2^dim-ary space-partitioning tree over the embedding (quadtree in 2-D, octree in 3-D), built
 * as scikit-learn 1.2's `_QuadTree` builds it: the root box is [min, max'] with max' widened by
 * max(0.1 %, 1e-3), cell bounds and centres are float32 values, a leaf holds one point, and only
 * points with exactly equal coordinates share a leaf as duplicates. (scikit-learn's source names a
 * tolerance EPSILON = 1e-6 for that test, but in the 1.2 build it is zero: points 1e-7 apart get
 * leaves of their own and repel each other. It matters at the start, where the PCA initialisation
 * is scaled to a standard deviation of 1e-4: in one 180-row set 60 pairs lie within 1e-6, and
 * dropping their repulsion moved the first gradient by 3e-3 relative.)
 */
class SpaceTree {
  private readonly dim: number;
  private readonly nChildren: number;
  private cells = 0;
  private cap: number;
  // Per cell: bounds, barycenter, size, squared width, first child, stored point, leaf flag.
  private minB: Float64Array;
  private maxB: Float64Array;
  private bary: Float64Array;
  private size: Float64Array;
  private sqWidth: Float64Array;
  private child: Int32Array;
  private point: Int32Array;
  private leaf: Uint8Array;
  private stack = new Int32Array(256);
  private readonly delta: Float64Array;

  constructor(Y: Float64Array, n: number, dim: number) {
    this.dim = dim;
    this.nChildren = 1 << dim;
    this.cap = Math.max(16, 4 * n);
    this.minB = new Float64Array(this.cap * dim);
    this.maxB = new Float64Array(this.cap * dim);
    this.bary = new Float64Array(this.cap * dim);
    this.size = new Float64Array(this.cap);
    this.sqWidth = new Float64Array(this.cap);
    this.child = new Int32Array(this.cap);
    this.point = new Int32Array(this.cap);
    this.leaf = new Uint8Array(this.cap);
    this.delta = new Float64Array(dim);
    const lo = new Float64Array(dim).fill(Infinity);
    const hi = new Float64Array(dim).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < dim; a++) {
        lo[a] = Math.min(lo[a], Y[i * dim + a]);
        hi[a] = Math.max(hi[a], Y[i * dim + a]);
      }
    }
    // Widen the box a little so no point sits on its upper edge (float32 arithmetic, as NumPy does
    // it on scikit-learn's float32 embedding).
    for (let a = 0; a < dim; a++) {
      const m = f32(hi[a]);
      hi[a] = Math.max(f32(m * f32(1 + f32(f32(1e-3) * Math.sign(m)))), f32(m + f32(1e-3)));
    }
    const root = this.newCell();
    let sq = 0;
    for (let a = 0; a < dim; a++) {
      this.minB[root * dim + a] = f32(lo[a]);
      this.maxB[root * dim + a] = hi[a];
      const w = f32(hi[a] - f32(lo[a]));
      sq = Math.max(sq, f32(w * w));
    }
    this.sqWidth[root] = sq;
    for (let i = 0; i < n; i++) this.insert(Y, i);
  }

  private grow(): void {
    const cap = this.cap * 2;
    const d = this.dim;
    const f = (a: Float64Array, m: number): Float64Array => {
      const b = new Float64Array(cap * m);
      b.set(a);
      return b;
    };
    this.minB = f(this.minB, d);
    this.maxB = f(this.maxB, d);
    this.bary = f(this.bary, d);
    this.size = f(this.size, 1);
    this.sqWidth = f(this.sqWidth, 1);
    const child = new Int32Array(cap);
    child.set(this.child);
    this.child = child;
    const point = new Int32Array(cap);
    point.set(this.point);
    this.point = point;
    const leaf = new Uint8Array(cap);
    leaf.set(this.leaf);
    this.leaf = leaf;
    this.cap = cap;
  }

  private newCell(): number {
    if (this.cells === this.cap) this.grow();
    const id = this.cells++;
    this.size[id] = 0;
    this.child[id] = -1;
    this.point[id] = -1;
    this.leaf[id] = 1;
    return id;
  }

  /** A cell's centre on one axis, rounded to float32 as scikit-learn stores it. */
  private mid(cell: number, a: number): number {
    return f32((this.minB[cell * this.dim + a] + this.maxB[cell * this.dim + a]) / 2);
  }

  private childFor(cell: number, Y: Float64Array, i: number): number {
    let c = 0;
    for (let a = 0; a < this.dim; a++) if (Y[i * this.dim + a] >= this.mid(cell, a)) c |= 1 << a;
    return c;
  }

  private split(cell: number): void {
    const d = this.dim;
    let first = -1;
    for (let c = 0; c < this.nChildren; c++) {
      const id = this.newCell();
      if (c === 0) first = id;
      let sq = 0;
      for (let a = 0; a < d; a++) {
        const mn = this.minB[cell * d + a];
        const mx = this.maxB[cell * d + a];
        const mid = this.mid(cell, a);
        const lo = c & (1 << a) ? mid : mn;
        const hi = c & (1 << a) ? mx : mid;
        this.minB[id * d + a] = lo;
        this.maxB[id * d + a] = hi;
        const w = f32(hi - lo);
        sq = Math.max(sq, f32(w * w));
      }
      this.sqWidth[id] = sq;
    }
    this.child[cell] = first;
    this.leaf[cell] = 0;
  }

  private addMass(cell: number, Y: Float64Array, i: number): void {
    const d = this.dim;
    const s = this.size[cell];
    for (let a = 0; a < d; a++) this.bary[cell * d + a] = (Y[i * d + a] + s * this.bary[cell * d + a]) / (s + 1);
    this.size[cell] = s + 1;
  }

  private insert(Y: Float64Array, i: number): void {
    const d = this.dim;
    let cell = 0;
    for (let depth = 0; ; depth++) {
      if (this.leaf[cell]) {
        const p = this.point[cell];
        if (p < 0) {
          this.point[cell] = i;
          this.addMass(cell, Y, i);
          return;
        }
        let dup = true;
        for (let a = 0; a < d; a++) dup = dup && Y[i * d + a] === Y[p * d + a];
        if (dup || depth > 100) {
          // A duplicate adds to the leaf's count; its barycenter stays the stored point. (The depth
          // guard only stops endless splitting of points that 100 halvings of the box cannot tell
          // apart, far below any scale an embedding has.)
          this.size[cell] += 1;
          return;
        }
        // Push the resident point (with its multiplicity) one level down, then retry here.
        const residentSize = this.size[cell];
        this.split(cell);
        const c = this.child[cell] + this.childFor(cell, Y, p);
        this.point[c] = p;
        for (let a = 0; a < d; a++) this.bary[c * d + a] = Y[p * d + a];
        this.size[c] = residentSize;
        this.point[cell] = -1;
      }
      this.addMass(cell, Y, i);
      cell = this.child[cell] + this.childFor(cell, Y, i);
    }
  }

  /**
   * Repulsive forces on point i: cells far enough away (width² / distance² < θ²) act through
   * their centre of mass. Adds to `neg` (at offset) and returns this point's share of Z = Σ q.
   */
  negativeForce(Y: Float64Array, i: number, sqTheta: number, neg: Float64Array, offset: number): number {
    const d = this.dim;
    const delta = this.delta;
    let sumQ = 0;
    let top = 0;
    this.stack[top++] = 0;
    while (top > 0) {
      const cell = this.stack[--top];
      const size = this.size[cell];
      if (size === 0) continue;
      let dist2 = 0;
      let dup = true;
      for (let a = 0; a < d; a++) {
        const v = Y[i * d + a] - this.bary[cell * d + a];
        delta[a] = v;
        dist2 += v * v;
        dup = dup && v === 0;
      }
      const isLeaf = this.leaf[cell] === 1;
      if (dup && isLeaf) continue;
      if (isLeaf || this.sqWidth[cell] / dist2 < sqTheta) {
        const q = 1 / (1 + dist2);
        sumQ += size * q;
        const mult = size * q * q;
        for (let a = 0; a < d; a++) neg[offset + a] += mult * delta[a];
      } else {
        if (top + this.nChildren > this.stack.length) {
          const bigger = new Int32Array(this.stack.length * 2);
          bigger.set(this.stack);
          this.stack = bigger;
        }
        const first = this.child[cell];
        for (let c = this.nChildren - 1; c >= 0; c--) this.stack[top++] = first + c;
      }
    }
    return sumQ;
  }
}

/** KL divergence and gradient by Barnes-Hut (`_kl_divergence_bh`). */
/** @internal exported for tests */
export function gradientBh(P: Csr, Y: Float64Array, n: number, dim: number, theta: number, grad: Float64Array, computeError: boolean): number {
  const tree = new SpaceTree(Y, n, dim);
  const neg = new Float64Array(n * dim);
  const row = new Float64Array(dim);
  let sumQ = 0;
  for (let i = 0; i < n; i++) sumQ += tree.negativeForce(Y, i, theta * theta, neg, i * dim);
  let error = 0;
  for (let i = 0; i < n; i++) {
    row.fill(0);
    for (let e = P.indptr[i]; e < P.indptr[i + 1]; e++) {
      const j = P.indices[e];
      const pij = P.data[e];
      let dij = 0;
      for (let a = 0; a < dim; a++) {
        const v = Y[i * dim + a] - Y[j * dim + a];
        dij += v * v;
      }
      const qij = 1 / (1 + dij);
      const w = pij * qij;
      if (computeError) error += pij * Math.log(Math.max(pij, FLOAT32_TINY) / Math.max(qij / sumQ, FLOAT32_TINY));
      for (let a = 0; a < dim; a++) row[a] += w * (Y[i * dim + a] - Y[j * dim + a]);
    }
    for (let a = 0; a < dim; a++) grad[i * dim + a] = 4 * (row[a] - neg[i * dim + a] / sumQ);
  }
  return computeError ? error : NaN;
}

/** KL divergence and gradient over all pairs (`_kl_divergence`); P is the full symmetric matrix. */
/** @internal exported for tests */
export function gradientExact(P: Float64Array, Y: Float64Array, n: number, dim: number, grad: Float64Array, computeError: boolean): number {
  const W = new Float64Array(n * n);
  let sumW = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let d2 = 0;
      for (let a = 0; a < dim; a++) {
        const v = Y[i * dim + a] - Y[j * dim + a];
        d2 += v * v;
      }
      const w = 1 / (1 + d2);
      W[i * n + j] = w;
      W[j * n + i] = w;
      sumW += 2 * w;
    }
  }
  let error = 0;
  grad.fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const w = W[i * n + j];
      const q = Math.max(w / sumW, MACHINE_EPSILON);
      const p = P[i * n + j];
      if (computeError && j > i) error += 2 * p * Math.log(Math.max(p, MACHINE_EPSILON) / q);
      const f = (p - q) * w;
      for (let a = 0; a < dim; a++) grad[i * dim + a] += f * (Y[i * dim + a] - Y[j * dim + a]);
    }
  }
  for (let i = 0; i < n * dim; i++) grad[i] *= 4;
  return computeError ? error : NaN;
}

/** The full joint-probability matrix P over all pairs (`_joint_probabilities`), zero diagonal. */
function jointProbabilities(D: Dense, perplexity: number): Float64Array {
  const n = D.rows;
  const sqd = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    let s = 0;
    for (let a = 0; a < D.cols; a++) {
      const v = D.data[i * D.cols + a] - D.data[j * D.cols + a];
      s += v * v;
    }
    sqd[i * n + j] = sqd[j * n + i] = Math.fround(s);
  }
  const cond = binarySearchPerplexity(sqd, n, n, perplexity, true);
  const P = new Float64Array(n * n);
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const v = cond[i * n + j] + cond[j * n + i];
    P[i * n + j] = v;
    total += v;
  }
  const norm = Math.max(total, MACHINE_EPSILON);
  for (let i = 0; i < n * n; i++) P[i] = i % (n + 1) === 0 ? 0 : Math.max(P[i] / norm, MACHINE_EPSILON);
  return P;
}

/**
 * The sparse P of the Barnes-Hut method (`_joint_probabilities_nn`): each row's conditional
 * probabilities over its min(n − 1, ⌊3·perplexity + 1⌋) nearest neighbours, symmetrised and
 * normalised to sum 1.
 */
/** @internal exported for tests */
export function jointProbabilitiesNn(D: Dense, perplexity: number): Csr {
  const n = D.rows;
  const k = Math.min(n - 1, Math.floor(3 * perplexity + 1));
  const nb = kNeighbors(D, D, k, true);
  const sqd = Float64Array.from(nb.distances, (dist) => Math.fround(dist * dist));
  const cond = binarySearchPerplexity(sqd, n, k, perplexity, false);
  return symmetrize(n, nb.indices, k, cond);
}

export interface TSNEOptions {
  nComponents?: number;
  perplexity?: number;
  earlyExaggeration?: number;
  learningRate?: number | 'auto';
  /** Total iterations, the first 250 with early exaggeration (scikit-learn's max_iter / n_iter). */
  maxIter?: number;
  nIterWithoutProgress?: number;
  minGradNorm?: number;
  init?: 'pca' | 'random' | MatrixLike;
  method?: 'barnes_hut' | 'exact';
  angle?: number;
  randomState?: RandomStateLike;
}

export class TSNE {
  readonly nComponents: number;
  readonly perplexity: number;
  readonly earlyExaggeration: number;
  readonly learningRate: number | 'auto';
  readonly maxIter: number;
  readonly nIterWithoutProgress: number;
  readonly minGradNorm: number;
  readonly init: 'pca' | 'random' | MatrixLike;
  readonly method: 'barnes_hut' | 'exact';
  readonly angle: number;
  readonly randomState: RandomStateLike;
  klDivergence = NaN;
  nIter = 0;
  learningRateUsed = NaN;
  embedding: number[][] = [];

  constructor(opts: TSNEOptions = {}) {
    this.nComponents = opts.nComponents ?? 2;
    this.perplexity = opts.perplexity ?? 30;
    this.earlyExaggeration = opts.earlyExaggeration ?? 12;
    this.learningRate = opts.learningRate ?? 'auto';
    this.maxIter = opts.maxIter ?? 1000;
    this.nIterWithoutProgress = opts.nIterWithoutProgress ?? 300;
    this.minGradNorm = opts.minGradNorm ?? 1e-7;
    this.init = opts.init ?? 'pca';
    this.method = opts.method ?? 'barnes_hut';
    this.angle = opts.angle ?? 0.5;
    this.randomState = opts.randomState;
  }

  fitTransform(X: MatrixLike | Dense): number[][] {
    const D = toDense(X);
    const n = D.rows;
    const dim = this.nComponents;
    if (this.method === 'barnes_hut' && (dim < 1 || dim > 3)) throw new UserError("TSNE: method 'barnes_hut' supports nComponents of 1 to 3; use method 'exact'");
    if (!(this.perplexity < n)) throw new UserError(`TSNE: perplexity (${this.perplexity}) must be less than the number of samples (${n})`);
    if (this.maxIter < EXPLORATION_N_ITER) throw new UserError(`TSNE: maxIter should be at least ${EXPLORATION_N_ITER}`);
    if (this.earlyExaggeration < 1) throw new UserError('TSNE: earlyExaggeration must be at least 1');
    const rng = checkRandomState(this.randomState);

    // Input affinities.
    const Pcsr = this.method === 'barnes_hut' ? jointProbabilitiesNn(D, this.perplexity) : undefined;
    const Pfull = this.method === 'exact' ? jointProbabilities(D, this.perplexity) : undefined;

    // Initial embedding.
    const Y = new Float64Array(n * dim);
    if (this.init === 'pca') {
      const scores = new PCA({ nComponents: dim }).fitTransform(D);
      let m = 0;
      for (let i = 0; i < n; i++) m += scores[i][0];
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (scores[i][0] - m) ** 2;
      const std = Math.sqrt(v / n);
      // scikit-learn divides the float32 scores by their float32 std, then scales, all in float32.
      const std32 = f32(std);
      for (let i = 0; i < n; i++) for (let a = 0; a < dim; a++) Y[i * dim + a] = f32(f32(f32(scores[i][a]) / std32) * f32(1e-4));
    } else if (this.init === 'random') {
      for (let i = 0; i < n * dim; i++) Y[i] = f32(f32(1e-4) * f32(rng.standardNormal()));
    } else {
      const I = toDense(this.init, 'init');
      if (I.rows !== n || I.cols !== dim) throw new UserError(`TSNE: init has shape ${I.rows}×${I.cols}, expected ${n}×${dim}`);
      Y.set(I.data);
    }

    const lr = this.learningRate === 'auto' ? Math.max(n / this.earlyExaggeration / 4, 50) : this.learningRate;
    this.learningRateUsed = lr;
    const grad = new Float64Array(n * dim);
    // P times the exaggeration, made once per phase. scikit-learn hands the (float64) sparse P to
    // its Barnes-Hut code as float32.
    const scaled = new Map<number, Csr | Float64Array>();
    const objective = (exaggeration: number, computeError: boolean): number => {
      let P = scaled.get(exaggeration);
      if (!P) {
        P = Pcsr ? { ...Pcsr, data: Pcsr.data.map((v) => f32(v * exaggeration)) } : (Pfull as Float64Array).map((v) => v * exaggeration);
        scaled.set(exaggeration, P);
      }
      return P instanceof Float64Array ? gradientExact(P, Y, n, dim, grad, computeError) : gradientBh(P, Y, n, dim, this.angle, grad, computeError);
    };

    const descend = (start: number, stop: number, momentum: number, exaggeration: number, withoutProgress: number): [number, number] => {
      // Each phase starts from fresh momentum and gains, as scikit-learn's _gradient_descent does.
      const update = new Float64Array(n * dim);
      const gains = new Float64Array(n * dim).fill(1);
      let error = Number.MAX_VALUE;
      let bestError = Number.MAX_VALUE;
      let bestIter = start;
      let i = start;
      for (; i < stop; i++) {
        const check = (i + 1) % N_ITER_CHECK === 0;
        error = objective(exaggeration, check || i === stop - 1);
        for (let e = 0; e < n * dim; e++) {
          const g = f32(grad[e]);
          if (update[e] * g < 0) gains[e] = f32(gains[e] + 0.2);
          else gains[e] = f32(gains[e] * 0.8);
          if (gains[e] < 0.01) gains[e] = 0.01;
          grad[e] = f32(g * gains[e]);
          update[e] = f32(f32(momentum * update[e]) - f32(lr * grad[e]));
          Y[e] = f32(Y[e] + update[e]);
        }
        if (check) {
          if (error < bestError) {
            bestError = error;
            bestIter = i;
          } else if (i - bestIter > withoutProgress) {
            break;
          }
          let g = 0;
          for (let e = 0; e < n * dim; e++) g += grad[e] * grad[e];
          if (Math.sqrt(g) <= this.minGradNorm) break;
        }
      }
      return [error, Math.min(i, stop - 1)];
    };

    let [kl, it] = descend(0, EXPLORATION_N_ITER, 0.5, this.earlyExaggeration, EXPLORATION_N_ITER);
    if (it < EXPLORATION_N_ITER || this.maxIter > EXPLORATION_N_ITER) {
      [kl, it] = descend(it + 1, this.maxIter, 0.8, 1, this.nIterWithoutProgress);
    }
    this.klDivergence = kl;
    this.nIter = it;
    this.embedding = Array.from({ length: n }, (_, i) => Array.from(Y.subarray(i * dim, (i + 1) * dim)));
    return this.embedding;
  }
}

/**
 * `trustworthiness`: how far the embedding's k nearest neighbours of each point are down that
 * point's neighbour ranking in the input space (1 = all of them are true neighbours).
 */
export function trustworthiness(X: MatrixLike | Dense, embedding: MatrixLike | Dense, opts: { nNeighbors?: number } = {}): number {
  const A = toDense(X);
  const E = toDense(embedding, 'embedding');
  const n = A.rows;
  const k = opts.nNeighbors ?? 5;
  if (E.rows !== n) throw new UserError(`trustworthiness: X has ${n} samples but the embedding has ${E.rows}`);
  if (!(k < n / 2)) throw new UserError(`trustworthiness: nNeighbors (${k}) should be less than n_samples / 2 (${n / 2})`);
  const nb = kNeighbors(E, E, k, true);
  const dist = new Float64Array(n);
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let a = 0; a < A.cols; a++) {
        const v = A.data[i * A.cols + a] - A.data[j * A.cols + a];
        s += v * v;
      }
      dist[j] = s;
    }
    dist[i] = Infinity;
    for (let r = 0; r < k; r++) {
      const j = nb.indices[i * k + r];
      // Rank of j among i's input-space neighbours, 1-based, ties by index.
      let rank = 1;
      const dj = dist[j];
      for (let m = 0; m < n; m++) if (dist[m] < dj || (dist[m] === dj && m < j)) rank++;
      if (rank > k) t += rank - k;
    }
  }
  return 1 - (t * 2) / (n * k * (2 * n - 3 * k - 1));
}
