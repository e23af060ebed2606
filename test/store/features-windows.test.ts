import assert from 'node:assert/strict';
import { it } from 'node:test';
import { profilesOf, rowFeatures } from '../../src/store/features.js';
import type { ResultRow } from '../../src/store/schema.js';

function row(id: string, steps: number, layers: number, f: (t: number, l: number) => number): ResultRow {
  const values = new Float32Array(steps * layers);
  for (let t = 0; t < steps; t++) for (let l = 0; l < layers; l++) values[t * layers + l] = f(t, l);
  return { sample_id: id, model: 'm', experiment: 'e', metric: 'shannon', labels: {}, prompt: '', completion: '', n_steps: steps, n_layers: layers, values };
}

it('window means of stored steps × layers, computed independently', () => {
  const r = row('a', 6, 2, (t, l) => t * 10 + l);
  // W = 1: the mean over the 6 steps of t*10 + l = 25 + l
  assert.deepEqual(Array.from(rowFeatures(r, 1)), [25, 26]);
  // W = 3: pairs of steps (0,1), (2,3), (4,5) → 5 + l, 25 + l, 45 + l
  assert.deepEqual(Array.from(rowFeatures(r, 3)), [5, 6, 25, 26, 45, 46]);
  assert.equal(rowFeatures(r), r.values, 'no windows: the stored values');
  assert.throws(() => rowFeatures(r, 4), /--windows 4 does not divide the 6 stored steps of sample a/);
  const p = profilesOf([r, row('b', 6, 2, () => 1)], 'shannon', 2);
  assert.equal(p.nFeatures, 4);
  assert.deepEqual(Array.from(p.X[1]), [1, 1, 1, 1]);
});
