/** scikit-learn's DummyClassifier (stratified, prior, most_frequent, uniform): the baseline the kNN is compared with. */
import { UserError } from '../util/errors.js';
import { bincount, encodeLabels, uniqueLabels, type Label } from './numeric.js';
import { checkRandomState, type RandomStateLike } from './random.js';
import type { Estimator } from './model-selection.js';

export interface DummyOptions {
  strategy?: 'stratified' | 'prior' | 'most_frequent' | 'uniform';
  randomState?: RandomStateLike;
}

/**
 * scikit-learn's `DummyClassifier`. With `stratified`, every predict call seeds a fresh
 * RandomState(randomState) and draws one `multinomial(1, class_prior)` row per sample, so
 * `predictProba` returns those one-hot rows and `predict` their classes — the same rows
 * scikit-learn returns for the same seed.
 */
export class DummyClassifier<L extends Label = number> implements Estimator {
  readonly strategy: NonNullable<DummyOptions['strategy']>;
  readonly randomState: RandomStateLike;
  classes: L[] = [];
  classPrior: number[] = [];

  constructor(opts: DummyOptions = {}) {
    this.strategy = opts.strategy ?? 'prior';
    this.randomState = opts.randomState;
  }

  clone(): DummyClassifier<L> {
    return new DummyClassifier<L>({ strategy: this.strategy, randomState: this.randomState });
  }

  fit(X: ArrayLike<unknown> | { rows: number }, y: ArrayLike<L>): this {
    const n = 'rows' in X && typeof X.rows === 'number' ? X.rows : (X as ArrayLike<unknown>).length;
    if (n !== y.length) throw new UserError(`DummyClassifier.fit: X has ${n} samples but y has ${y.length}`);
    this.classes = uniqueLabels(y) as L[];
    const counts = bincount(encodeLabels(y, this.classes), this.classes.length);
    this.classPrior = counts.map((c) => c / y.length);
    return this;
  }

  private rowsOf(X: ArrayLike<unknown> | { rows: number }): number {
    return 'rows' in X && typeof X.rows === 'number' ? X.rows : (X as ArrayLike<unknown>).length;
  }

  predictProba(X: ArrayLike<unknown> | { rows: number }): number[][] {
    if (this.classes.length === 0) throw new UserError('DummyClassifier: call fit() before predicting');
    const n = this.rowsOf(X);
    const C = this.classes.length;
    switch (this.strategy) {
      case 'stratified':
        return checkRandomState(this.randomState).multinomial(1, this.classPrior, n);
      case 'prior':
        return Array.from({ length: n }, () => this.classPrior.slice());
      case 'uniform':
        return Array.from({ length: n }, () => new Array<number>(C).fill(1 / C));
      case 'most_frequent': {
        const best = this.classPrior.indexOf(Math.max(...this.classPrior));
        return Array.from({ length: n }, () => Array.from({ length: C }, (_, c) => (c === best ? 1 : 0)));
      }
    }
  }

  predict(X: ArrayLike<unknown> | { rows: number }): L[] {
    const n = this.rowsOf(X);
    const best = this.classPrior.indexOf(Math.max(...this.classPrior));
    switch (this.strategy) {
      case 'stratified':
        return this.predictProba(X).map((row) => this.classes[row.indexOf(Math.max(...row))]);
      case 'uniform': {
        const rng = checkRandomState(this.randomState);
        return Array.from({ length: n }, () => this.classes[rng.randint(this.classes.length)]);
      }
      default:
        return Array.from({ length: n }, () => this.classes[best]);
    }
  }

  score(X: ArrayLike<unknown> | { rows: number }, y: ArrayLike<Label>): number {
    const pred = this.predict(X);
    let hit = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === y[i]) hit++;
    return hit / pred.length;
  }
}
