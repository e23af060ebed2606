import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RandomState } from '../../src/analysis/random.js';
import { npMean, npStd, npSum, npVar } from '../../src/analysis/numeric.js';
import { REPO_ROOT } from './fixtures.js';

// Golden values printed by NumPy itself (test/analysis/fixtures/numpy_random.py).
const fixturePath = `${REPO_ROOT}/test/analysis/fixtures/numpy-random.json`;
const np = JSON.parse(readFileSync(fixturePath, 'utf8')) as {
  sample: number[];
  shuffle20: number[];
  perm1000: number[];
  multi1: number[][];
  multi_b: number[][];
  multi20: number[][];
  multi500: number[][];
  binom: number[];
  normal: number[];
  randint: number[];
  choice: number[][];
  bigseed: number[];
  sums: Record<string, { x: number[]; sum: number; mean: number; var1: number | null; std: number }>;
};

test('random_sample matches NumPy RandomState(42)', () => {
  const rs = new RandomState(42);
  assert.deepEqual(np.sample.map(() => rs.randomSample()), np.sample);
  const big = new RandomState(2 ** 32 - 1);
  assert.deepEqual(np.bigseed.map(() => big.randomSample()), np.bigseed);
});

test('shuffle and permutation match NumPy', () => {
  const a = Array.from({ length: 20 }, (_, i) => i);
  new RandomState(0).shuffle(a);
  assert.deepEqual(a, np.shuffle20);
  assert.deepEqual(new RandomState(123).permutation(1000), np.perm1000);
});

test('randint and choice(replace=False) match NumPy', () => {
  const rs = new RandomState(3);
  const highs = [1, 2, 3, 7, 100, 1000, 2 ** 31, 2 ** 32 - 1];
  const got: number[] = [];
  for (let r = 0; r < 5; r++) for (const h of highs) got.push(rs.randint(0, h));
  assert.deepEqual(got, np.randint);
  const rc = new RandomState(11);
  const pop = Array.from({ length: 10 }, (_, i) => i + 10);
  assert.deepEqual(np.choice.map(() => rc.choiceWithoutReplacement(pop, 3)), np.choice);
});

test('multinomial matches NumPy (inversion and BTPE binomials)', () => {
  assert.deepEqual(new RandomState(42).multinomial(1, [0.3, 0.5, 0.2], 200), np.multi1);
  assert.deepEqual(new RandomState(42).multinomial(1, [0.58, 0.42], 200), np.multi_b);
  assert.deepEqual(new RandomState(7).multinomial(20, [0.1, 0.0, 0.6, 0.3], 50), np.multi20);
  assert.deepEqual(new RandomState(7).multinomial(500, [0.1, 0.25, 0.6, 0.05], 50), np.multi500);
});

test('binomial matches NumPy across both algorithms', () => {
  const rs = new RandomState(5);
  const params: [number, number][] = [[100, 0.4], [1000, 0.7], [50, 0.5], [10, 0.3], [10000, 0.01], [10000, 0.999], [77, 0.9]];
  const got: number[] = [];
  for (let r = 0; r < 30; r++) for (const [n, p] of params) got.push(rs.binomial(n, p));
  assert.deepEqual(got, np.binom);
});

test('standard normal (legacy polar method) matches NumPy', () => {
  const rs = new RandomState(9);
  const got = np.normal.map(() => rs.standardNormal());
  got.forEach((g, i) => assert.ok(Math.abs(g - np.normal[i]) <= 1e-15 * Math.abs(np.normal[i]), `normal[${i}]: ${g} vs ${np.normal[i]}`));
});

test('sum, mean, var and std follow NumPy summation order', () => {
  for (const [n, c] of Object.entries(np.sums)) {
    assert.equal(npSum(c.x), c.sum, `sum n=${n}`);
    assert.equal(npMean(c.x), c.mean, `mean n=${n}`);
    if (c.var1 !== null) assert.ok(Math.abs(npVar(c.x, 1) - c.var1) <= 1e-15 * Math.abs(c.var1), `var n=${n}`);
    assert.ok(Math.abs(npStd(c.x) - c.std) <= 1e-15 * Math.abs(c.std), `std n=${n}`);
  }
});
