/**
 * The lens metrics on distributions built here, where the thresholded metrics and renyi:0 bite
 * (on the parity fixtures every entry passes the threshold and no p underflows 1e-20). The graph's
 * float32 results are compared with float64 definitions written independently below.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ort } from '../../src/runtime/ort.js';
import { buildLensProbeGraph, layerGroups } from '../../src/graph/lens-head.js';
import { parseMetrics } from '../../src/graph/metric-names.js';

const V = 64;
const L = 3;
const B = 2;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** Logits per (b, l): near-uniform rows (threshold active), peaked rows, and rows with entries far below 1e-20. */
function makeLogits(): Float32Array {
  const r = rng(7);
  const x = new Float32Array(B * L * V);
  for (let row = 0; row < B * L; row++) {
    for (let i = 0; i < V; i++) {
      const base = row % 3 === 0 ? 0.3 * r() : row % 3 === 1 ? 4 * r() : 2 * r();
      x[row * V + i] = base;
    }
    if (row % 3 === 2) for (let i = 0; i < 10; i++) x[row * V + i] = -120; // p ≈ e^-122 < 1e-20
  }
  return x;
}

function logSoftmax(row: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  let s = 0;
  for (const v of row) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return row.map((v) => v - lse);
}

function reference(name: string, lps: Float64Array[], l: number, anchors: number[], logits: Float64Array[]): number {
  const lp = lps[l];
  const p = lp.map(Math.exp);
  const mean = p.reduce((a, b) => a + b, 0) / V;
  const std = Math.sqrt(p.reduce((a, b) => a + (b - mean) ** 2, 0) / V);
  const th = mean - std;
  const renyi = (q: Float64Array, a: number): number => {
    if (a === 1) return -q.reduce((acc, v) => acc + (v > 0 ? v * Math.log(v) : 0), 0);
    if (a === Infinity) return -Math.log(Math.max(...q));
    if (a === 0) return Math.log(q.filter((v) => v > 1e-20).length);
    return Math.log(q.reduce((acc, v) => acc + v ** a, 0)) / (1 - a);
  };
  switch (name) {
    case 'shannon': return renyi(p, 1);
    case 'renyi:0': return renyi(p, 0);
    case 'renyi:0.5': return renyi(p, 0.5);
    case 'renyi:inf': return renyi(p, Infinity);
    case 'moment:2': return p.reduce((a, v) => a + v * v, 0) / V;
    case 'thresholded:shannon': return -p.reduce((a, v, i) => a + (v > th ? v * lp[i] : 0), 0);
    case 'thresholded:moment:2': return p.reduce((a, v) => a + (v > th ? v * v : 0), 0) / V;
    case 'kl:final': return p.reduce((a, v, i) => a + v * (lp[i] - lps[L - 1][i]), 0);
    case 'kl:next': return l === L - 1 ? 0 : p.reduce((a, v, i) => a + v * (lp[i] - lps[l + 1][i]), 0);
    case 'anchored:shannon':
    case 'anchored:renyi:2': {
      const q = logSoftmax(Float64Array.from(anchors, (id) => logits[l][id])).map(Math.exp);
      return renyi(q, name === 'anchored:shannon' ? 1 : 2);
    }
    default: throw new Error(name);
  }
}

it('every metric matches its float64 definition, including where the threshold and the 1e-20 floor bite', async () => {
  const names = ['shannon', 'renyi:0', 'renyi:0.5', 'renyi:inf', 'moment:2', 'thresholded:shannon', 'thresholded:moment:2', 'kl:final', 'kl:next', 'anchored:shannon', 'anchored:renyi:2'];
  const anchors = [1, 5, 17, 40];
  const graph = buildLensProbeGraph(V, L, { metrics: parseMetrics(names), topK: 3, anchorIds: anchors });
  const session = await ort.InferenceSession.create(graph);
  const x = makeLogits();
  const out = await session.run({ lens_logits: new ort.Tensor('float32', x, [B, L, V]) });
  let bitesThreshold = 0;
  let bitesFloor = 0;
  for (let b = 0; b < B; b++) {
    const logits = Array.from({ length: L }, (_, l) => Float64Array.from(x.subarray((b * L + l) * V, (b * L + l + 1) * V)));
    const lps = logits.map(logSoftmax);
    for (let l = 0; l < L; l++) {
      const p = lps[l].map(Math.exp);
      const mean = 1 / V;
      const std = Math.sqrt(p.reduce((a, v) => a + (v - mean) ** 2, 0) / V);
      if (p.some((v) => v <= mean - std)) bitesThreshold++;
      if (p.some((v) => v <= 1e-20)) bitesFloor++;
      for (const n of names) {
        const got = (out[`lens.${n}`].data as Float32Array)[b * L + l];
        const want = reference(n, lps, l, anchors, logits);
        const tol = n.startsWith('moment') || n.startsWith('thresholded:moment') ? 1e-7 : 2e-5;
        assert.ok(Math.abs(got - want) <= tol, `${n} b${b} l${l}: ${got} vs ${want}`);
      }
      const argmax = Number((out['lens.argmax'].data as BigInt64Array)[b * L + l]);
      assert.equal(argmax, lps[l].indexOf(Math.max(...lps[l])));
    }
  }
  assert.ok(bitesThreshold >= 2, 'some distributions must have entries below mean − std');
  assert.ok(bitesFloor >= 2, 'some distributions must have entries below 1e-20');
  // and the thresholded values really differ from Shannon there
  const sh = out['lens.shannon'].data as Float32Array;
  const th = out['lens.thresholded:shannon'].data as Float32Array;
  assert.ok(sh.some((v, i) => Math.abs(v - th[i]) > 1e-3));
  const r0 = out['lens.renyi:0'].data as Float32Array;
  assert.ok(r0.some((v) => Math.abs(v - Math.log(V)) > 0.1));
  await session.release();
});

it('metric names parse to canonical names and reject nonsense', () => {
  assert.deepEqual(parseMetrics('shannon, renyi:1,renyi:0.50,renyi:inf,moment:2,kl:final').map((m) => m.name), ['shannon', 'renyi:0.5', 'renyi:inf', 'moment:2', 'kl:final']);
  assert.throws(() => parseMetrics('renyi:-1'), /order must be ≥ 0/);
  assert.throws(() => parseMetrics('entropyy'), /unknown metric 'entropyy'/);
  assert.throws(() => parseMetrics('kl:first'), /unknown metric/);
  assert.throws(() => parseMetrics(''), /no metric given/);
});

it('layer groups split the layers into contiguous near-equal ranges covering all of them', () => {
  for (const [layers, groups] of [[12, 3], [12, 5], [7, 7], [7, 20], [1, 3], [32, 8], [5, 0]]) {
    const gs = layerGroups(layers, groups);
    assert.equal(gs.length, Math.max(1, Math.min(layers, groups)), `${layers} layers in ${groups} groups`);
    assert.equal(gs[0][0], 0);
    assert.equal(gs[gs.length - 1][1], layers);
    for (let i = 0; i < gs.length; i++) {
      assert.ok(gs[i][1] > gs[i][0], `group ${i} of ${layers}/${groups} is empty`);
      if (i > 0) assert.equal(gs[i][0], gs[i - 1][1], 'groups are contiguous');
    }
    const sizes = gs.map(([a, b]) => b - a);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `near-equal sizes: ${sizes}`);
  }
});
