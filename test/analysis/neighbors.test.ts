import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState, kNeighbors, toDense } from '../../src/analysis/index.js';

/** All distances, sorted by (distance, index): the definition the fast search must reproduce. */
function naive(F: number[][], Q: number[][], k: number, excludeSelf: boolean): { d: number[][]; i: number[][] } {
  const d: number[][] = [];
  const i: number[][] = [];
  Q.forEach((q, qi) => {
    const all = F.map((f, j) => ({ j, s: f.reduce((acc, v, a) => acc + (q[a] - v) ** 2, 0) })).filter((c) => !(excludeSelf && c.j === qi));
    all.sort((a, b) => a.s - b.s || a.j - b.j);
    d.push(all.slice(0, k).map((c) => Math.sqrt(c.s)));
    i.push(all.slice(0, k).map((c) => c.j));
  });
  return { d, i };
}

test('kNeighbors: the pruned search returns exactly the brute-force neighbours, ties by lower index', () => {
  const rs = new RandomState(1);
  // Coarse values make many exact ties and duplicate rows.
  const F = Array.from({ length: 700 }, () => Array.from({ length: 6 }, () => Math.round(rs.standardNormal() * 2) / 2));
  const Q = Array.from({ length: 60 }, (_, r) => (r < 10 ? F[r * 7].slice() : Array.from({ length: 6 }, () => Math.round(rs.standardNormal() * 2) / 2)));
  for (const k of [1, 5, 29]) {
    const got = kNeighbors(toDense(F), toDense(Q), k);
    const want = naive(F, Q, k, false);
    for (let q = 0; q < Q.length; q++) {
      assert.deepEqual(Array.from(got.indices.subarray(q * k, (q + 1) * k)), want.i[q], `k=${k} query ${q} indices`);
      assert.deepEqual(Array.from(got.distances.subarray(q * k, (q + 1) * k)), want.d[q], `k=${k} query ${q} distances`);
    }
  }
  const self = kNeighbors(toDense(F.slice(0, 300)), toDense(F.slice(0, 300)), 4, true);
  const wantSelf = naive(F.slice(0, 300), F.slice(0, 300), 4, true);
  for (let q = 0; q < 300; q++) assert.deepEqual(Array.from(self.indices.subarray(q * 4, q * 4 + 4)), wantSelf.i[q], `self query ${q}`);
});

test('kNeighbors: continuous data in 26 dimensions', () => {
  const rs = new RandomState(2);
  const F = Array.from({ length: 1200 }, () => Array.from({ length: 26 }, () => rs.standardNormal()));
  const Q = Array.from({ length: 40 }, () => Array.from({ length: 26 }, () => rs.standardNormal()));
  const got = kNeighbors(toDense(F), toDense(Q), 29);
  const want = naive(F, Q, 29, false);
  for (let q = 0; q < Q.length; q++) assert.deepEqual(Array.from(got.indices.subarray(q * 29, (q + 1) * 29)), want.i[q], `query ${q}`);
});
