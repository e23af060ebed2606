/** Statistical tests: SciPy's paired t-test (ttest_rel), with the Student-t CDF from @stdlib. */
import { createRequire } from 'node:module';
import { UserError } from '../util/errors.js';
import { npMean, npVar } from './numeric.js';

const require = createRequire(import.meta.url);
// The Student-t CDF of a maintained library (regularised incomplete beta), not a hand-rolled series.
const tCdf = require('@stdlib/stats-base-dists-t-cdf') as (x: number, v: number) => number;

export interface TTestResult {
  statistic: number;
  pvalue: number;
  df: number;
}

/**
 * `scipy.stats.ttest_rel`: the paired t-test on a − b, two-sided. The p-value is taken from the
 * lower tail (2·F(−|t|)), which keeps its relative precision when p is tiny.
 */
export function ttestRel(a: ArrayLike<number>, b: ArrayLike<number>): TTestResult {
  if (a.length !== b.length) throw new UserError(`ttestRel: the samples are unequal in length (${a.length} and ${b.length}); pair every value`);
  const n = a.length;
  if (n < 2) throw new UserError('ttestRel needs at least two pairs');
  const d = Float64Array.from({ length: n }, (_, i) => a[i] - b[i]);
  const v = npVar(d, 1);
  const dm = npMean(d);
  const df = n - 1;
  const t = dm / Math.sqrt(v / n);
  const pvalue = Number.isNaN(t) ? NaN : Math.min(1, 2 * tCdf(-Math.abs(t), df));
  return { statistic: t, pvalue, df };
}
