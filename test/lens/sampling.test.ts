/**
 * The temperature sampler: draws follow softmax(logits / T), one stream per prompt, and float noise
 * of the size batch composition causes (~1e-5 in a logit) almost never changes a draw — the
 * property that lets a resumed or sharded run sample the same tokens as an uninterrupted one.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Sampler } from '../../src/lens/sampling.js';
import { Rng } from '../../src/util/rng.js';

it('draws follow softmax(logits / T)', () => {
  const logits = Float32Array.from([2, 1, 0.5, 0, -1, -3]);
  for (const T of [1, 0.7, 2]) {
    const s = new Sampler(11, 3);
    const counts = new Array(logits.length).fill(0);
    const n = 40_000;
    for (let k = 0; k < n; k++) counts[s.sample(logits, T)]++;
    const w = Array.from(logits, (l) => Math.exp(l / T));
    const z = w.reduce((a, b) => a + b, 0);
    // Pearson's chi-square with 5 degrees of freedom: 20.5 is its 99.9% quantile.
    const chi2 = counts.reduce((acc, c, i) => acc + (c - (n * w[i]) / z) ** 2 / ((n * w[i]) / z), 0);
    assert.ok(chi2 < 20.5, `T = ${T}: chi-square ${chi2.toFixed(1)} for counts ${counts.join(', ')}`);
  }
});

it('one stream per (seed, prompt): the same draws whatever else is sampled', () => {
  const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
  const a = new Sampler(5, 7);
  const b = new Sampler(5, 7);
  const other = new Sampler(5, 8);
  const da = Array.from({ length: 20 }, () => a.sample(logits, 1));
  const db = Array.from({ length: 20 }, () => (other.sample(logits, 1), b.sample(logits, 1)));
  assert.deepEqual(da, db);
  const c = new Sampler(6, 7);
  assert.notDeepEqual(Array.from({ length: 20 }, () => c.sample(logits, 1)), da, 'another seed, other draws');
});

it('logit noise of 1e-5 changes at most 1 draw in 1,000 over an 8k vocabulary', () => {
  const rng = new Rng(3);
  const V = 8_000;
  let changed = 0;
  const draws = 1000;
  for (let d = 0; d < draws; d++) {
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const logits = Float32Array.from({ length: V }, () => normal() * 3);
    const noisy = logits.map((l) => l + (rng.next() - 0.5) * 2e-5);
    if (new Sampler(1, d).sample(logits, 1) !== new Sampler(1, d).sample(noisy, 1)) changed++;
  }
  assert.ok(changed <= 1, `${changed} of ${draws} draws changed`);
});
