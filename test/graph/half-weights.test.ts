/**
 * 16-bit weights in the graph (weightDtype 'checkpoint'): a bf16 or f16 weight read as external data,
 * cast to float32 where it is used — through GraphBuilder.weight (a linear layer, gated on its input)
 * and through the lens head's block-wise unembedding (rows cut and cast a block at a time, here with
 * blocks small enough to need several, an uneven last one included) — gives exactly x · W of the
 * 16-bit values, and ONNX Runtime runs it with constant folding off.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { DT, GraphBuilder, type ExternalWeight } from '../../src/graph/builder.js';
import { halfUnembedding } from '../../src/graph/lens-head.js';
import { bf16ToFloat32, f16ToFloat32 } from '../../src/models/safetensors.js';
import { f32ToBf16Bits, f32ToF16Bits } from '../../src/models/safetensors-write.js';
import { graphReadsHalfWeights } from '../../src/lens/model.js';
import { GraphSession } from '../../src/runtime/session.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const root = tempDir('el-half-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

for (const dtype of ['bfloat16', 'float16'] as const) {
  it(`${dtype} weights: a gated linear layer and a block-wise unembedding equal x · W of the 16-bit values`, async () => {
    const r = rand(dtype === 'bfloat16' ? 1 : 2);
    const [E, H, V, n] = [24, 16, 1000, 5];
    // w1 [E, H] ([in, out], a linear layer) and u [V, H] (an unembedding), as 16-bit bits and their exact values
    const half = (count: number): { bits: Uint16Array; values: Float32Array } => {
      const raw = Float32Array.from({ length: count }, () => r());
      const bits = dtype === 'bfloat16' ? f32ToBf16Bits(raw) : f32ToF16Bits(raw);
      return { bits, values: dtype === 'bfloat16' ? bf16ToFloat32(bits) : f16ToFloat32(bits) };
    };
    const w1 = half(E * H);
    const u = half(V * H);
    const dir = path.join(root, dtype);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.concat([Buffer.from(w1.bits.buffer), Buffer.from(u.bits.buffer)]));
    const weights = new Map<string, ExternalWeight>([
      ['w1', { name: 'w1', dims: [E, H], offset: 0, length: E * H * 2, dtype }],
      ['u', { name: 'u', dims: [V, H], offset: E * H * 2, length: V * H * 2, dtype }],
    ]);
    const g = new GraphBuilder(weights, 'w.bin');
    const x = g.input('x', DT.FLOAT, ['n', E]);
    const h = g.linear(x, 'w1', undefined, '/lin');
    // blocks of 300 rows (300 × 16 values): 4 blocks, the last of 100 rows
    const logits = halfUnembedding(g, h, 'u', V, H, 300 * H);
    g.nodes.push({ opType: 'Identity', name: 'out', input: [logits], output: ['y'] });
    g.output('y', DT.FLOAT, ['n', V]);
    assert.equal(g.nodes.filter((nd) => nd.opType === 'Gemm').length, 4);
    fs.writeFileSync(path.join(dir, 'g.onnx'), g.encode());
    const s = await GraphSession.create(path.join(dir, 'g.onnx'), { threads: 1, halfWeights: true });
    const xs = Float32Array.from({ length: n * E }, () => r());
    const got = (await s.run({ x: { type: 'float32', data: xs, dims: [n, E] } })).y.data as Float32Array;
    await s.release();
    for (let i = 0; i < n; i++) {
      const hid = new Float64Array(H);
      for (let j = 0; j < H; j++) for (let k = 0; k < E; k++) hid[j] += xs[i * E + k] * w1.values[k * H + j];
      for (let v = 0; v < V; v++) {
        let want = 0;
        for (let j = 0; j < H; j++) want += hid[j] * u.values[v * H + j];
        assert.ok(Math.abs(got[i * V + v] - want) <= 1e-5 * (1 + Math.abs(want)), `row ${i}, token ${v}: ${got[i * V + v]} vs ${want}`);
      }
    }
  });
}

it('constant folding goes off exactly when the graph reads a 16-bit weight: a 16-bit embedding only the runtime reads does not count', () => {
  const w = (name: string, dtype?: ExternalWeight['dtype']): [string, ExternalWeight] => [name, { name, dims: [4, 4], offset: 0, length: 0, ...(dtype ? { dtype } : {}) }];
  const int8Head = (name: string): [string, ExternalWeight][] => [w(`${name}.q8`, 'uint8'), w(`${name}.q8_scales`), w(`${name}.q8_zeros`, 'uint8')];
  const cases: [string, boolean, [string, ExternalWeight][], boolean][] = [
    ['float32 weights', false, [w('embed.weight'), w('lm_head.weight'), w('final_norm.weight')], false],
    ['a 16-bit untied unembedding', false, [w('embed.weight', 'bfloat16'), w('lm_head.weight', 'bfloat16')], true],
    ['a 16-bit tied embedding, the unembedding too', true, [w('embed.weight', 'bfloat16')], true],
    ['int8, a 16-bit untied embedding (runtime only)', false, [w('embed.weight', 'bfloat16'), ...int8Head('lm_head.weight')], false],
    ['int8, a 16-bit tied embedding (its rows runtime only)', true, [w('embed.weight', 'float16'), ...int8Head('embed.weight')], false],
    ['int8 with a 16-bit weight the graph reads', false, [w('embed.weight', 'bfloat16'), ...int8Head('lm_head.weight'), w('layers.0.attn.q_norm.weight', 'bfloat16')], true],
  ];
  for (const [what, tiedEmbeddings, entries, want] of cases) assert.equal(graphReadsHalfWeights({ tiedEmbeddings }, new Map(entries)), want, what);
});
