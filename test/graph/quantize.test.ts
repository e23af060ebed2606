/**
 * int8 weights for MatMulNBits: the quantizer's round trip is within half a step per element, and
 * ONNX Runtime's MatMulNBits on our blocks (accuracy level 0: float32 compute) equals x times the
 * dequantized weight, for both exported layouts and a K that is not a multiple of the block.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DT, GraphBuilder } from '../../src/graph/builder.js';
import { dequantized, quantizeInt8, QUANT_BLOCK } from '../../src/graph/quantize.js';
import { ort } from '../../src/runtime/ort.js';

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

it('round trip within half a quantization step; zero and the block extremes exact', () => {
  const r = rand(3);
  const K = 300;
  const N = 7;
  const w = Float32Array.from({ length: K * N }, () => r() * 0.1);
  w[5] = 0;
  const q = quantizeInt8(w, [K, N], 'in-out');
  const nb = Math.ceil(K / QUANT_BLOCK);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const step = q.scales[n * nb + Math.floor(k / QUANT_BLOCK)];
      assert.ok(Math.abs(dequantized(q, n, k) - w[k * N + n]) <= step / 2 + 1e-9, `(${n}, ${k})`);
    }
  }
  assert.equal(dequantized(q, 5, 0), 0);
});

for (const layout of ['in-out', 'out-in'] as const) {
  it(`MatMulNBits on our blocks equals x · dequantized W (${layout}, K = 200)`, async () => {
    const r = rand(layout === 'in-out' ? 5 : 6);
    const K = 200;
    const N = 9;
    const dims = layout === 'in-out' ? [K, N] : [N, K];
    const w = Float32Array.from({ length: K * N }, () => r());
    const q = quantizeInt8(w, dims, layout);
    const nb = Math.ceil(K / QUANT_BLOCK);
    // a graph of one MatMulNBits over inline initializers (the builder's op, the exporter's format)
    const g = new GraphBuilder(new Map(), 'none.bin');
    const x = g.input('x', DT.FLOAT, [3, K]);
    const blob = g.constU8(q.blob, [N, nb, QUANT_BLOCK]);
    const scales = g.constF(q.scales);
    const zeros = g.constU8(q.zeros, [N * nb]);
    const y = g.op('MatMulNBits', [x, blob, scales, zeros], 'mm', { K, N, bits: 8, block_size: QUANT_BLOCK, accuracy_level: 0 }, 1, 'com.microsoft')[0];
    g.nodes.push({ opType: 'Identity', name: 'out', input: [y], output: ['y'] });
    g.output('y', DT.FLOAT, [3, N]);
    const model = g.toModel();
    model.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
    const { onnx } = (await import('onnx-proto')).default;
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
    const xs = Float32Array.from({ length: 3 * K }, () => r());
    const got = (await session.run({ x: new ort.Tensor('float32', xs, [3, K]) })).y.data as Float32Array;
    await session.release();
    for (let m = 0; m < 3; m++) {
      for (let n = 0; n < N; n++) {
        let want = 0;
        for (let k = 0; k < K; k++) want += xs[m * K + k] * dequantized(q, n, k);
        assert.ok(Math.abs(got[m * N + n] - want) <= 1e-4, `(${m}, ${n}): ${got[m * N + n]} vs ${want}`);
      }
    }
  });
}

it('both layouts give the blocks of the definition: per (output, block) min/max scale and zero point, codes rounded and clamped, padding at the zero point', () => {
  const r = rand(11);
  const K = 300;
  const N = 37;
  const byOutIn = Float32Array.from({ length: N * K }, () => r() * 0.2); // [N, K]
  for (let k = 128; k < 256; k++) byOutIn[3 * K + k] = 0; // an all-zero block
  for (let k = 0; k < 128; k++) byOutIn[4 * K + k] = 0.05 + k * 1e-4; // a block of positive values only
  const byInOut = new Float32Array(K * N); // the same weight as [K, N]
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) byInOut[k * N + n] = byOutIn[n * K + k];
  // the definition, one block at a time
  const nb = Math.ceil(K / QUANT_BLOCK);
  const want = { blob: new Uint8Array(N * nb * QUANT_BLOCK), scales: new Float32Array(N * nb), zeros: new Uint8Array(N * nb) };
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      const vals = Array.from(byOutIn.subarray(n * K + b * QUANT_BLOCK, n * K + Math.min(K, (b + 1) * QUANT_BLOCK)));
      const lo = Math.min(0, ...vals);
      const hi = Math.max(0, ...vals);
      const scale = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
      const zero = Math.min(255, Math.max(0, Math.round(-lo / scale)));
      want.scales[n * nb + b] = scale;
      want.zeros[n * nb + b] = zero;
      for (let j = 0; j < QUANT_BLOCK; j++) want.blob[(n * nb + b) * QUANT_BLOCK + j] = j < vals.length ? Math.min(255, Math.max(0, Math.round(vals[j] / scale) + zero)) : zero;
    }
  }
  for (const q of [quantizeInt8(byInOut, [K, N], 'in-out'), quantizeInt8(byOutIn, [N, K], 'out-in')]) {
    assert.equal(q.K, K);
    assert.equal(q.N, N);
    assert.deepEqual(q.scales, want.scales);
    assert.deepEqual(q.zeros, want.zeros);
    assert.deepEqual(q.blob, want.blob);
  }
});
