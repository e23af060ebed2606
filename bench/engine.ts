/**
 * Engine benchmark (a script that prints figures, not a test).
 *
 * Creates a random-weight model shaped like GPT-2 small (12 layers, d 768, vocab 50257) in a temp
 * folder and profiles 24 story-like prompts of ~130 tokens for 8 greedy tokens (Shannon) at batch
 * sizes 1 and 8. Prints load times (cold: weight cache built; warm: a fresh process reusing it),
 * seconds and generated tokens/s per batch size, peak RSS, and — measured in the same run — the
 * time and GFLOP/s of a bare onnxruntime MatMul of the lens' shape (12×768 · 768×50257).
 *
 * Usage: npm run bench   (or: node dist/bench/engine.js [--keep])
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { LensModel } from '../src/lens/model.js';
import { randomTensor, writeModel, D, LAYERS, VOCAB } from './gpt2-small.js';

const PROMPTS = 24;
const NEW_TOKENS = 8;
const ALL_METRICS = ['shannon', 'renyi:0', 'renyi:0.5', 'renyi:2', 'renyi:inf', 'moment:2', 'moment:3', 'thresholded:shannon', 'thresholded:moment:2', 'kl:final', 'kl:next', 'anchored:shannon', 'anchored:renyi:2'];

/** 24 prompts of 120–140 token ids, fixed. */
function prompts(): { ids: number[] }[] {
  const out: { ids: number[] }[] = [];
  let s = 12345;
  for (let i = 0; i < PROMPTS; i++) {
    const len = 120 + ((i * 7) % 21);
    const ids = [50256];
    for (let j = 1; j < len; j++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      ids.push(s % 50000);
    }
    out.push({ ids });
  }
  return out;
}

async function bareMatmul(threads: number): Promise<{ ms: number; gflops: number }> {
  const { onnx } = onnxProto;
  const w = randomTensor(D * VOCAB, 99, 0.02);
  const model = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 18 }],
    graph: {
      name: 'lens_matmul',
      node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['y'], name: 'mm' }],
      initializer: [{ name: 'w', dims: [D, VOCAB], dataType: 1, rawData: new Uint8Array(w.buffer) }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: LAYERS }, { dimValue: D }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: LAYERS }, { dimValue: VOCAB }] } } } }],
    },
  })).finish();
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
  if (threads > 0) opts.intraOpNumThreads = threads;
  const session = await ort.InferenceSession.create(model, opts);
  const x = new ort.Tensor('float32', randomTensor(LAYERS * D, 7, 1), [LAYERS, D]);
  for (let i = 0; i < 3; i++) await session.run({ x });
  const reps = 20;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await session.run({ x });
  const ms = (performance.now() - t0) / reps;
  await session.release();
  return { ms, gflops: (2 * LAYERS * D * VOCAB) / (ms / 1000) / 1e9 };
}

async function child(mode: string, dir: string, cacheDir: string): Promise<void> {
  if (mode === 'write') {
    writeModel(dir);
    return;
  }
  const t0 = performance.now();
  const model = await LensModel.load(dir, { cacheDir });
  const loadSeconds = (performance.now() - t0) / 1000;
  const result: Record<string, unknown> = {
    loadSeconds,
    exportSeconds: model.exportSeconds,
    rssAfterLoadMB: process.memoryUsage().rss / 2 ** 20,
    peakRssLoadMB: process.resourceUsage().maxRSS / 1024,
  };
  if (mode === 'run') {
    const ps = prompts();
    for (const bs of [1, 8]) {
      const t1 = performance.now();
      let n = 0;
      for await (const r of model.profile(ps, { maxNewTokens: NEW_TOKENS, batchSize: bs })) n += r.generatedIds.length;
      const s = (performance.now() - t1) / 1000;
      result[`batch${bs}`] = { seconds: s, tokensPerSecond: n / s };
    }
    result.peakRssMB = process.resourceUsage().maxRSS / 1024;
    // every metric at once vs Shannon alone, same workload, batch 8 (sessions built before timing)
    const all = { metrics: ALL_METRICS, anchorIds: [10, 20, 30, 40], batchSize: 8, maxNewTokens: NEW_TOKENS };
    for await (const _ of model.profile(ps.slice(0, 1), { ...all, maxNewTokens: 1 })) void _;
    const t2 = performance.now();
    for await (const _ of model.profile(ps, all)) void _;
    result.allMetricsBatch8 = (performance.now() - t2) / 1000;
    await model.close();
    result.matmul = await bareMatmul(0);
  }
  process.stdout.write(JSON.stringify(result));
}

async function main(): Promise<void> {
  const [mode, dir, cacheDir] = process.argv.slice(2);
  if (mode === 'write' || mode === 'run' || mode === 'load') return child(mode, dir, cacheDir);
  const self = fileURLToPath(import.meta.url);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-'));
  const modelDir = path.join(tmp, 'gpt2-small-random');
  const cache = path.join(tmp, 'cache');
  try {
    console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, onnxruntime-node ${ort.env.versions.common}`);
    console.log(`workload: GPT-2-small shape (12 layers, d 768, vocab 50257), random f32 weights; ${PROMPTS} prompts of 120–140 tokens, ${NEW_TOKENS} greedy tokens, Shannon`);
    execFileSync(process.execPath, [self, 'write', modelDir], { stdio: 'inherit' });
    const weightMB = fs.statSync(path.join(modelDir, 'model.safetensors')).size / 2 ** 20;
    const run = JSON.parse(execFileSync(process.execPath, [self, 'run', modelDir, cache]).toString());
    const warm = JSON.parse(execFileSync(process.execPath, [self, 'load', modelDir, cache]).toString());
    const f = (v: number): string => v.toFixed(2);
    console.log(`load, cold (weight cache built): ${f(run.loadSeconds)} s (of which weight export ${f(run.exportSeconds)} s)`);
    console.log(`load, warm (fresh process, cache reused): ${f(warm.loadSeconds)} s`);
    for (const bs of [1, 8]) {
      const b = run[`batch${bs}`];
      console.log(`profile batch ${bs}: ${f(b.seconds)} s, ${f(b.tokensPerSecond)} generated tokens/s`);
    }
    console.log(`all ${ALL_METRICS.length} metrics at once, batch 8: ${f(run.allMetricsBatch8)} s = ${(run.allMetricsBatch8 / run.batch8.seconds).toFixed(2)}× Shannon alone`);
    console.log(`peak RSS: ${run.peakRssMB.toFixed(0)} MB (fp32 weights ${weightMB.toFixed(0)} MB → ${(run.peakRssMB / weightMB).toFixed(2)}×); after load ${run.rssAfterLoadMB.toFixed(0)} MB (peak while loading ${run.peakRssLoadMB.toFixed(0)} MB)`);
    console.log(`bare onnxruntime MatMul 12×768 · 768×50257: ${run.matmul.ms.toFixed(2)} ms, ${run.matmul.gflops.toFixed(1)} GFLOP/s`);
  } finally {
    if (!process.argv.includes('--keep')) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
