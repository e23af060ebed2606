/** scikit-learn's LabelEncoder: labels to class indices, classes sorted as scikit-learn sorts them. */
import { UserError } from '../util/errors.js';
import { encodeLabels, uniqueLabels, type Label } from './numeric.js';

/** scikit-learn's `LabelEncoder`: classes sorted (numbers numerically, strings by code point). */
export class LabelEncoder<L extends Label = Label> {
  classes: L[] = [];

  fit(y: ArrayLike<L>): this {
    this.classes = uniqueLabels(y) as L[];
    return this;
  }

  transform(y: ArrayLike<L>): number[] {
    if (this.classes.length === 0) throw new UserError('LabelEncoder: call fit() before transform()');
    return Array.from(encodeLabels(y, this.classes));
  }

  fitTransform(y: ArrayLike<L>): number[] {
    return this.fit(y).transform(y);
  }

  inverseTransform(codes: ArrayLike<number>): L[] {
    return Array.from(codes, (c, i) => {
      const v = this.classes[c];
      if (v === undefined) throw new UserError(`LabelEncoder: code ${c} at ${i} is not in 0..${this.classes.length - 1}`);
      return v;
    });
  }
}
