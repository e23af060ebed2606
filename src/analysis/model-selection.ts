/**
 * Cross-validation splitters with scikit-learn's exact fold assignment, `trainTestSplit`, and
 * `crossValScore`.
 */
import { UserError } from '../util/errors.js';
import { bincount, encodeLabels, toDense, takeRows, uniqueLabels, type Dense, type Label, type MatrixLike } from './numeric.js';
import { checkRandomState, type RandomStateLike } from './random.js';

/** One split: sorted train indices and test indices. */
export type Split = [train: number[], test: number[]];

export interface Splitter {
  split(X: ArrayLike<unknown>, y?: ArrayLike<Label>): Split[];
  getNSplits(): number;
}

export interface KFoldOptions {
  nSplits?: number;
  shuffle?: boolean;
  randomState?: RandomStateLike;
}

function checkSplitOptions(name: string, opts: KFoldOptions): { nSplits: number; shuffle: boolean } {
  const nSplits = opts.nSplits ?? 5;
  if (!Number.isInteger(nSplits) || nSplits < 2) {
    throw new UserError(`${name}: nSplits must be an integer of at least 2, got ${nSplits}`);
  }
  const shuffle = opts.shuffle ?? false;
  if (!shuffle && opts.randomState !== undefined && opts.randomState !== null) {
    throw new UserError(`${name}: setting randomState has no effect since shuffle is false; set shuffle: true or drop randomState`);
  }
  return { nSplits, shuffle };
}

/** Turns a test mask per fold into scikit-learn's (train, test) pairs, both ascending. */
function splitsFromFoldIds(testFold: Int32Array, nSplits: number): Split[] {
  const out: Split[] = [];
  for (let f = 0; f < nSplits; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < testFold.length; i++) (testFold[i] === f ? test : train).push(i);
    out.push([train, test]);
  }
  return out;
}

/** `KFold`: consecutive folds (the first n % nSplits one larger), after an optional shuffle. */
export class KFold implements Splitter {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly randomState: RandomStateLike;

  constructor(opts: KFoldOptions = {}) {
    ({ nSplits: this.nSplits, shuffle: this.shuffle } = checkSplitOptions('KFold', opts));
    this.randomState = opts.randomState;
  }

  getNSplits(): number {
    return this.nSplits;
  }

  split(X: ArrayLike<unknown>): Split[] {
    const n = X.length;
    if (this.nSplits > n) {
      throw new UserError(`KFold: cannot have nSplits=${this.nSplits} greater than the number of samples n=${n}`);
    }
    const indices = Array.from({ length: n }, (_, i) => i);
    if (this.shuffle) checkRandomState(this.randomState).shuffle(indices);
    const testFold = new Int32Array(n);
    let start = 0;
    for (let f = 0; f < this.nSplits; f++) {
      const size = Math.floor(n / this.nSplits) + (f < n % this.nSplits ? 1 : 0);
      for (let i = start; i < start + size; i++) testFold[indices[i]] = f;
      start += size;
    }
    return splitsFromFoldIds(testFold, this.nSplits);
  }
}

/**
 * `StratifiedKFold` (scikit-learn ≥ 0.22): classes numbered by first appearance, per-class fold
 * sizes from a round robin over the sorted codes, each class's fold ids laid out in blocks and
 * shuffled by one shared generator when `shuffle` is set.
 */
export class StratifiedKFold implements Splitter {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly randomState: RandomStateLike;
  /** Set when a class has fewer members than nSplits (scikit-learn warns). */
  warning?: string;

  constructor(opts: KFoldOptions = {}) {
    ({ nSplits: this.nSplits, shuffle: this.shuffle } = checkSplitOptions('StratifiedKFold', opts));
    this.randomState = opts.randomState;
  }

  getNSplits(): number {
    return this.nSplits;
  }

  /** The fold id of every sample. */
  testFolds(y: ArrayLike<Label>): Int32Array {
    const n = y.length;
    const k = this.nSplits;
    if (k > n) throw new UserError(`StratifiedKFold: cannot have nSplits=${k} greater than the number of samples n=${n}`);
    const classes = uniqueLabels(y);
    const sortedCode = encodeLabels(y, classes);
    // Renumber classes by order of first appearance.
    const firstSeen = new Array<number>(classes.length).fill(-1);
    for (let i = 0; i < n; i++) if (firstSeen[sortedCode[i]] < 0) firstSeen[sortedCode[i]] = i;
    const byAppearance = firstSeen.map((_, c) => c).sort((a, b) => firstSeen[a] - firstSeen[b]);
    const perm = new Int32Array(classes.length);
    byAppearance.forEach((c, rank) => (perm[c] = rank));
    const yEnc = sortedCode.map((c) => perm[c]);
    const nClasses = classes.length;
    const counts = bincount(yEnc, nClasses);
    if (counts.every((c) => k > c)) {
      throw new UserError(`StratifiedKFold: nSplits=${k} cannot be greater than the number of members in each class (largest class has ${Math.max(...counts)})`);
    }
    const minCount = Math.min(...counts);
    this.warning = k > minCount ? `The least populated class in y has only ${minCount} members, which is less than nSplits=${k}.` : undefined;

    // allocation[f][c]: members of class c in test fold f, from dealing sorted codes round robin.
    const yOrder = Int32Array.from(yEnc).sort();
    const allocation = Array.from({ length: k }, () => new Array<number>(nClasses).fill(0));
    for (let i = 0; i < n; i++) allocation[i % k][yOrder[i]]++;

    const rng = this.shuffle ? checkRandomState(this.randomState) : undefined;
    const testFold = new Int32Array(n);
    for (let c = 0; c < nClasses; c++) {
      const foldsForClass: number[] = [];
      for (let f = 0; f < k; f++) for (let j = 0; j < allocation[f][c]; j++) foldsForClass.push(f);
      if (rng) rng.shuffle(foldsForClass);
      let pos = 0;
      for (let i = 0; i < n; i++) if (yEnc[i] === c) testFold[i] = foldsForClass[pos++];
    }
    return testFold;
  }

  split(X: ArrayLike<unknown>, y?: ArrayLike<Label>): Split[] {
    if (!y) throw new UserError('StratifiedKFold.split needs the labels y');
    if (X.length !== y.length) throw new UserError(`StratifiedKFold.split: X has ${X.length} samples but y has ${y.length}`);
    return splitsFromFoldIds(this.testFolds(y), this.nSplits);
  }
}

/** scikit-learn's `_validate_shuffle_split`: sample counts from sizes given as fractions or counts. */
function shuffleSplitSizes(n: number, testSize: number | undefined, trainSize: number | undefined): [nTrain: number, nTest: number] {
  let test = testSize;
  if (test === undefined && trainSize === undefined) test = 0.25;
  const isFrac = (v: number): boolean => !Number.isInteger(v) || (v > 0 && v < 1);
  for (const [name, v] of [['testSize', test], ['trainSize', trainSize]] as const) {
    if (v === undefined) continue;
    if (isFrac(v) ? !(v > 0 && v < 1) : !(v > 0 && v < n)) {
      throw new UserError(`${name}=${v} should be a fraction in (0, 1) or a count in [1, ${n - 1}]`);
    }
  }
  let nTest = test === undefined ? undefined : isFrac(test) ? Math.ceil(test * n) : test;
  let nTrain = trainSize === undefined ? undefined : isFrac(trainSize) ? Math.floor(trainSize * n) : trainSize;
  if (nTrain === undefined) nTrain = n - (nTest as number);
  if (nTest === undefined) nTest = n - nTrain;
  if (nTrain + nTest > n) throw new UserError(`train and test sizes add up to ${nTrain + nTest}, more than the ${n} samples`);
  if (nTrain === 0) throw new UserError(`with n=${n}, testSize=${testSize} and trainSize=${trainSize} the train set would be empty`);
  return [nTrain, nTest];
}

/**
 * scikit-learn's `_approximate_mode`: per-class draws proportional to the class counts; the
 * leftover draws go to the classes with the largest remainders, ties broken at random.
 */
function approximateMode(classCounts: number[], nDraws: number, rng: ReturnType<typeof checkRandomState>): number[] {
  const total = classCounts.reduce((a, b) => a + b, 0);
  const continuous = classCounts.map((c) => (c / total) * nDraws);
  const floored = continuous.map(Math.floor);
  let needToAdd = Math.trunc(nDraws - floored.reduce((a, b) => a + b, 0));
  if (needToAdd > 0) {
    const remainder = continuous.map((c, i) => c - floored[i]);
    const values = [...new Set(remainder)].sort((a, b) => b - a);
    for (const value of values) {
      const inds = remainder.flatMap((r, i) => (r === value ? [i] : []));
      const addNow = Math.min(inds.length, needToAdd);
      for (const i of rng.choiceWithoutReplacement(inds, addNow)) floored[i] += 1;
      needToAdd -= addNow;
      if (needToAdd === 0) break;
    }
  }
  return floored;
}

export interface TrainTestSplitOptions {
  testSize?: number;
  trainSize?: number;
  stratify?: ArrayLike<Label>;
  randomState?: RandomStateLike;
  shuffle?: boolean;
}

/**
 * `train_test_split` of one array (pass `indices` to split anything else): ShuffleSplit's
 * permutation, or StratifiedShuffleSplit's per-class draws with `stratify`.
 */
export function trainTestSplit<T>(items: readonly T[], opts: TrainTestSplitOptions = {}): [train: T[], test: T[]] {
  const n = items.length;
  const [nTrain, nTest] = shuffleSplitSizes(n, opts.testSize, opts.trainSize);
  if (opts.shuffle === false) {
    if (opts.stratify) throw new UserError('trainTestSplit: stratified splitting needs shuffle: true');
    return [items.slice(0, nTrain), items.slice(nTrain, nTrain + nTest)];
  }
  const rng = checkRandomState(opts.randomState);
  let trainIdx: number[];
  let testIdx: number[];
  if (!opts.stratify) {
    const perm = rng.permutation(n);
    testIdx = perm.slice(0, nTest);
    trainIdx = perm.slice(nTest, nTest + nTrain);
  } else {
    const y = opts.stratify;
    if (y.length !== n) throw new UserError(`trainTestSplit: stratify has ${y.length} labels for ${n} samples`);
    const classes = uniqueLabels(y, 'stratify');
    const codes = encodeLabels(y, classes, 'stratify');
    const counts = bincount(codes, classes.length);
    if (Math.min(...counts) < 2) {
      throw new UserError('trainTestSplit: the least populated class in stratify has only 1 member; every class needs at least 2');
    }
    if (nTrain < classes.length) throw new UserError(`trainTestSplit: the train size ${nTrain} should be at least the number of classes ${classes.length}`);
    if (nTest < classes.length) throw new UserError(`trainTestSplit: the test size ${nTest} should be at least the number of classes ${classes.length}`);
    // Indices of each class in ascending order (a stable argsort of the codes).
    const classIndices: number[][] = classes.map(() => []);
    for (let i = 0; i < n; i++) classIndices[codes[i]].push(i);
    const nI = approximateMode(counts, nTrain, rng);
    const remaining = counts.map((c, i) => c - nI[i]);
    const tI = approximateMode(remaining, nTest, rng);
    const train: number[] = [];
    const test: number[] = [];
    for (let c = 0; c < classes.length; c++) {
      const perm = rng.permutation(counts[c]);
      const members = perm.map((p) => classIndices[c][p]);
      train.push(...members.slice(0, nI[c]));
      test.push(...members.slice(nI[c], nI[c] + tI[c]));
    }
    trainIdx = rng.permutation(train);
    testIdx = rng.permutation(test);
  }
  return [trainIdx.map((i) => items[i]), testIdx.map((i) => items[i])];
}

/** What `crossValScore` needs of a model. */
export interface Estimator {
  fit(X: Dense | MatrixLike, y: ArrayLike<Label>): unknown;
  /** Mean accuracy on (X, y). */
  score(X: Dense | MatrixLike, y: ArrayLike<Label>): number;
  /** An unfitted copy with the same parameters. */
  clone(): Estimator;
}

export interface CrossValOptions {
  /** Folds: a count (StratifiedKFold without shuffle, as scikit-learn does for classifiers), a splitter, or the splits. */
  cv?: number | Splitter | readonly Split[];
  /** Defaults to the estimator's own `score` (accuracy). */
  scoring?: (estimator: Estimator, X: Dense, y: Label[]) => number;
}

/** `cross_val_score`: fit a fresh clone per fold, score it on the held-out fold. */
export function crossValScore(estimator: Estimator, X: MatrixLike | Dense, y: ArrayLike<Label>, opts: CrossValOptions = {}): number[] {
  const dense = toDense(X);
  if (dense.rows !== y.length) throw new UserError(`crossValScore: X has ${dense.rows} samples but y has ${y.length}`);
  const cv = opts.cv ?? 5;
  const splits: readonly Split[] =
    typeof cv === 'number' ? new StratifiedKFold({ nSplits: cv }).split({ length: dense.rows }, y) : Array.isArray(cv) ? cv : (cv as Splitter).split({ length: dense.rows }, y);
  const labels = Array.from(y);
  return splits.map(([train, test]) => {
    const est = estimator.clone();
    est.fit(takeRows(dense, train), train.map((i) => labels[i]));
    const Xt = takeRows(dense, test);
    const yt = test.map((i) => labels[i]);
    return opts.scoring ? opts.scoring(est, Xt, yt) : est.score(Xt, yt);
  });
}
