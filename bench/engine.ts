/**
 * Engine benchmark (a script that prints figures, not a test).
 *
 * Creates a random-weight model shaped like GPT-2 small (12 layers, d 768, vocab 50257) in a temp
 * folder and profiles 24 story-like prompts of ~130 tokens for 8 greedy tokens (Shannon) at batch
 * sizes 1 and 8. Prints load times (cold: weight cache built; warm: a fresh process reusing it),
 * seconds and generated tokens/s per batch size, peak RSS, and — measured in the same run — the
 * time and GFLOP/s of a bare onnxruntime MatMul of the lens' shape (12×768 · 768×50257). Each
 * figure comes from its own process, as a user runs one `entropylens profile` per configuration.
 *
 * Usage: npm run bench   (or: node dist/bench/engine.js [--keep])
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ort } from '../src/runtime/ort.js';
import { LensModel } from '../src/lens/model.js';
import { bareMatmul, writeModel, D, LAYERS, VOCAB } from './gpt2-small.js';

const PROMPTS = 24;
const NEW_TOKENS = 8;
const ALL_METRICS = ['shannon', 'renyi:0', 'renyi:0.5', 'renyi:2', 'renyi:inf', 'moment:2', 'moment:3', 'thresholded:shannon', 'thresholded:moment:2', 'kl:final', 'kl:next', 'anchored:shannon', 'anchored:renyi:2'];

/**
 * The useful floating-point work of profiling `lengths` prompts for NEW_TOKENS greedy tokens on the
 * GPT-2-small shape: 2 FLOP per linear-layer parameter per token (prefill and each decode step),
 * causal attention (2·T²·d per layer over a prefill of T, 4·c·d per decoded token at context c), and
 * the lens, LAYERS rows of 2·d·V per generated token (its last row is the model's own logits).
 * Padding, norms and the vocabulary reductions are not counted, so the ratio to the MatMul peak is
 * a lower bound on how busy the machine's sgemm is.
 */
function workloadGflop(lengths: number[]): number {
  const linear = 2 * LAYERS * (D * 3 * D + D * D + 2 * D * 4 * D);
  const lens = LAYERS * 2 * D * VOCAB;
  let flop = 0;
  for (const T of lengths) {
    flop += T * linear + LAYERS * 2 * T * T * D + NEW_TOKENS * lens;
    for (let s = 1; s < NEW_TOKENS; s++) flop += linear + LAYERS * 4 * (T + s) * D;
  }
  return flop / 1e9;
}

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

/**
 * One measurement per process, as a user runs `entropylens profile` once per configuration:
 * `profile B` loads the model for batch size B, then times profiling; `matmul` times the bare MatMul.
 */
async function child(mode: string, dir: string, cacheDir: string, arg?: string): Promise<void> {
  if (mode === 'write') {
    writeModel(dir);
    return;
  }
  if (mode === 'matmul') {
    const [rows, k, n] = (arg ?? String(LAYERS)).split('x').map(Number);
    process.stdout.write(JSON.stringify(await bareMatmul(rows, k, n)));
    return;
  }
  const batchSize = Number(arg ?? 8);
  const t0 = performance.now();
  const model = await LensModel.load(dir, { cacheDir, profile: { batchSize } });
  const loadSeconds = (performance.now() - t0) / 1000;
  const result: Record<string, unknown> = {
    loadSeconds,
    exportSeconds: model.exportSeconds,
    rssAfterLoadMB: process.memoryUsage().rss / 2 ** 20,
    peakRssLoadMB: process.resourceUsage().maxRSS / 1024,
  };
  if (mode === 'profile') {
    const ps = prompts();
    const t1 = performance.now();
    let n = 0;
    for await (const r of model.profile(ps, { maxNewTokens: NEW_TOKENS, batchSize })) n += r.generatedIds.length;
    const seconds = (performance.now() - t1) / 1000;
    Object.assign(result, { seconds, tokensPerSecond: n / seconds, peakRssMB: process.resourceUsage().maxRSS / 1024 });
    if (batchSize === 8) {
      // every metric at once vs Shannon alone, same workload and batch size (graph built before timing)
      const all = { metrics: ALL_METRICS, anchorIds: [10, 20, 30, 40], batchSize, maxNewTokens: NEW_TOKENS };
      await model.prepare(all);
      const t2 = performance.now();
      for await (const _ of model.profile(ps, all)) void _;
      result.allMetrics = (performance.now() - t2) / 1000;
    }
  }
  await model.close();
  process.stdout.write(JSON.stringify(result));
}

/** The batch-8 workload through the real CLI, in its own process; its JSON reports times and peak RSS. */
function cliRun(modelDir: string, cache: string): { timing: { load_seconds: number; generate_seconds: number }; memory: { peak_rss_mb: number } } {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const args = [main, 'profile', modelDir, '--cache-dir', cache, '--batch-size', '8', '--max-new-tokens', String(NEW_TOKENS), '--json'];
  for (const p of prompts()) args.push('--input-ids', p.ids.join(','));
  return JSON.parse(execFileSync(process.execPath, args, { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString());
}

async function main(): Promise<void> {
  const [mode, dir, cacheDir, arg] = process.argv.slice(2);
  if (['write', 'profile', 'load', 'matmul'].includes(mode)) return child(mode, dir, cacheDir, arg);
  const self = fileURLToPath(import.meta.url);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-'));
  const modelDir = path.join(tmp, 'gpt2-small-random');
  const cache = path.join(tmp, 'cache');
  const inChild = (...args: string[]): Record<string, number> => JSON.parse(execFileSync(process.execPath, [self, ...args]).toString());
  try {
    console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, onnxruntime-node ${ort.env.versions.common}`);
    console.log(`workload: GPT-2-small shape (12 layers, d 768, vocab 50257), random f32 weights; ${PROMPTS} prompts of 120–140 tokens, ${NEW_TOKENS} greedy tokens, Shannon`);
    console.log('each line below is its own process (load, then profile), as one `entropylens profile` run');
    execFileSync(process.execPath, [self, 'write', modelDir], { stdio: 'inherit' });
    const weightMB = fs.statSync(path.join(modelDir, 'model.safetensors')).size / 2 ** 20;
    const cold = inChild('load', modelDir, cache, '8');
    const warm = inChild('load', modelDir, cache, '8');
    const runs = [inChild('profile', modelDir, cache, '1'), inChild('profile', modelDir, cache, '8')];
    const cli = cliRun(modelDir, cache);
    const matmul = inChild('matmul', modelDir, cache);
    // the sgemm peak: the fastest of 20 runs of each of three compute-bound shapes, the best of them
    const shapes = ['64x768x50257', '512x768x3072', '1024x1024x1024'];
    const peaks = shapes.map((s) => inChild('matmul', modelDir, cache, s).bestGflops);
    const peak = Math.max(...peaks);
    const f = (v: number): string => v.toFixed(2);
    const mb = (v: number): string => `${v.toFixed(0)} MB (${(v / weightMB).toFixed(2)}× the ${weightMB.toFixed(0)} MB of fp32 weights)`;
    console.log(`load, cold (weight cache built): ${f(cold.loadSeconds)} s (of which weight export ${f(cold.exportSeconds)} s); peak RSS while loading ${mb(cold.peakRssLoadMB)}`);
    console.log(`load, warm (cache reused): ${f(warm.loadSeconds)} s; RSS after load ${warm.rssAfterLoadMB.toFixed(0)} MB`);
    for (const [i, bs] of [1, 8].entries()) {
      const r = runs[i];
      console.log(`profile batch ${bs}: ${f(r.seconds)} s, ${f(r.tokensPerSecond)} generated tokens/s; peak RSS of the process ${mb(r.peakRssMB)}`);
    }
    console.log(`the same with the CLI, entropylens profile --batch-size 8 --json: load ${f(cli.timing.load_seconds)} s, generate ${f(cli.timing.generate_seconds)} s; peak RSS ${mb(cli.memory.peak_rss_mb)}`);
    console.log(`all ${ALL_METRICS.length} metrics at once, batch 8: ${f(runs[1].allMetrics)} s = ${(runs[1].allMetrics / runs[1].seconds).toFixed(2)}× Shannon alone`);
    console.log(`bare onnxruntime MatMul 12×768 · 768×50257: ${matmul.ms.toFixed(2)} ms, ${matmul.gflops.toFixed(1)} GFLOP/s`);
    const work = workloadGflop(prompts().map((p) => p.ids.length));
    console.log(`sgemm peak of this machine (bare onnxruntime MatMul, fastest of 20 runs; ${shapes.map((s, i) => `${s} ${peaks[i].toFixed(1)}`).join(', ')} GFLOP/s): ${peak.toFixed(1)} GFLOP/s`);
    for (const [i, bs] of [1, 8].entries()) {
      const rate = work / runs[i].seconds;
      console.log(`profile batch ${bs}: ${work.toFixed(0)} GFLOP of useful work in ${f(runs[i].seconds)} s = ${rate.toFixed(1)} GFLOP/s, ${((100 * rate) / peak).toFixed(0)}% of the sgemm peak`);
    }
  } finally {
    if (!process.argv.includes('--keep')) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
