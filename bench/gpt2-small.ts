/** A random-weight model shaped like GPT-2 small, written to a folder (shared by the benchmarks). */
import fs from 'node:fs';
import path from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../src/models/safetensors-write.js';
import { ort } from '../src/runtime/ort.js';

export const D = 768;
export const LAYERS = 12;
export const VOCAB = 50257;

/** Deterministic pseudo-random normal-ish values (sum of uniforms), scaled like GPT-2's init. */
export function randomTensor(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const a = s / 4294967296;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (a + s / 4294967296 - 1) * scale * 2.45;
  }
  return out;
}

/**
 * With `tokenizerFrom`, the folder also gets that tokenizer (e.g. the demo's 1024-token BPE: its ids
 * are valid rows of the 50257-row vocabulary; ids it lacks decode to <unk>).
 */
export function writeModel(dir: string, tokenizerFrom?: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const tensors: Record<string, TensorToWrite> = {};
  let seed = 1;
  const add = (name: string, shape: number[], scale: number, fill?: number): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors[name] = { dtype: 'F32', shape, data: fill !== undefined ? new Float32Array(n).fill(fill) : randomTensor(n, seed++, scale) };
  };
  add('transformer.wte.weight', [VOCAB, D], 0.02);
  add('transformer.wpe.weight', [1024, D], 0.01);
  for (let i = 0; i < LAYERS; i++) {
    const p = `transformer.h.${i}.`;
    add(p + 'ln_1.weight', [D], 0, 1);
    add(p + 'ln_1.bias', [D], 0, 0);
    add(p + 'attn.c_attn.weight', [D, 3 * D], 0.02);
    add(p + 'attn.c_attn.bias', [3 * D], 0, 0);
    add(p + 'attn.c_proj.weight', [D, D], 0.02 / Math.sqrt(2 * LAYERS));
    add(p + 'attn.c_proj.bias', [D], 0, 0);
    add(p + 'ln_2.weight', [D], 0, 1);
    add(p + 'ln_2.bias', [D], 0, 0);
    add(p + 'mlp.c_fc.weight', [D, 4 * D], 0.02);
    add(p + 'mlp.c_fc.bias', [4 * D], 0, 0);
    add(p + 'mlp.c_proj.weight', [4 * D, D], 0.02 / Math.sqrt(2 * LAYERS));
    add(p + 'mlp.c_proj.bias', [D], 0, 0);
  }
  add('transformer.ln_f.weight', [D], 0, 1);
  add('transformer.ln_f.bias', [D], 0, 0);
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  const config = {
    model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: D, n_head: 12, n_layer: LAYERS, n_positions: 1024,
    vocab_size: VOCAB, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', bos_token_id: 50256, eos_token_id: 50256,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  if (tokenizerFrom) for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(tokenizerFrom, f), path.join(dir, f));
}


/**
 * A bare onnxruntime MatMul, rows × K · K × N (default: the lens' shape, K = 768, N = 50257; all
 * threads): its mean time and GFLOP/s over 20 runs, and the GFLOP/s of the fastest run — the
 * machine's reference measured in the same run. 12 rows read the 154 MB matrix for little work
 * (memory-bound); 64 or more are compute-bound.
 */
export async function bareMatmul(rows: number, K = D, N = VOCAB): Promise<{ ms: number; gflops: number; bestGflops: number }> {
  // imported here: the profiling processes load only what a profile run loads
  const { onnx } = (await import('onnx-proto')).default;
  const w = randomTensor(K * N, 99, 0.02);
  const model = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 18 }],
    graph: {
      name: 'lens_matmul',
      node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['y'], name: 'mm' }],
      initializer: [{ name: 'w', dims: [K, N], dataType: 1, rawData: new Uint8Array(w.buffer) }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: rows }, { dimValue: K }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: rows }, { dimValue: N }] } } } }],
    },
  })).finish();
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
  const session = await ort.InferenceSession.create(model, opts);
  const x = new ort.Tensor('float32', randomTensor(rows * K, 7, 1), [rows, K]);
  for (let i = 0; i < 3; i++) await session.run({ x });
  const reps = 20;
  let total = 0;
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await session.run({ x });
    const t = performance.now() - t0;
    total += t;
    best = Math.min(best, t);
  }
  await session.release();
  const gflop = (2 * rows * K * N) / 1e9;
  return { ms: total / reps, gflops: gflop / (total / reps / 1000), bestGflops: gflop / (best / 1000) };
}

