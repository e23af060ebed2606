/**
 * The lens over prompt positions on the GPT-2-small shape (random weights): one prompt of N tokens
 * lensed at every position and layer (`positions: 'prompt'`), against the same prompt's prefill with
 * the lens at the last position only (`positions: 'last'`, one new token), measured in the same run,
 * each in its own process (peak RSS is the process's). Memory should stay flat in N (the lens runs in
 * chunks of ~64 rows per unembedding Gemm); time should grow with N × layers × vocabulary.
 *
 * Usage: node dist/bench/positions.js [--lengths 128,512]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LensModel } from '../src/lens/model.js';
import { bareMatmul, D, LAYERS, VOCAB, writeModel } from './gpt2-small.js';

const here = fileURLToPath(import.meta.url);

function promptOf(n: number): number[] {
  let s = 4242;
  return Array.from({ length: n }, (_, i) => {
    if (i === 0) return 50256;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % 50000;
  });
}

/** In a child: load, warm up, then time one profile of an N-token prompt; prints JSON. */
async function child(dir: string, cache: string, n: number, positions: 'prompt' | 'last'): Promise<void> {
  const opts = positions === 'prompt' ? { positions, batchSize: 1 } : { positions, batchSize: 1, maxNewTokens: 1 };
  const model = await LensModel.load(dir, { cacheDir: cache, profile: opts });
  for await (const _ of model.profile([{ ids: promptOf(16) }], opts)) void _;
  const t = performance.now();
  let rows = 0;
  for await (const r of model.profile([{ ids: promptOf(n) }], opts)) rows = r.positions?.metrics.shannon.length ?? r.metrics.shannon.length;
  const seconds = (performance.now() - t) / 1000;
  await model.close();
  console.log(JSON.stringify({ seconds, rows, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
}

function run(dir: string, cache: string, n: number, positions: string): { seconds: number; rows: number; peakRssMB: number } {
  const r = spawnSync(process.execPath, [here, 'child', dir, cache, String(n), positions], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') return child(process.argv[3], process.argv[4], Number(process.argv[5]), process.argv[6] as 'prompt' | 'last');
  const arg = process.argv.indexOf('--lengths');
  const lengths = (arg >= 0 ? process.argv[arg + 1] : '128,512').split(',').map(Number);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-pos-'));
  try {
    console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, Node ${process.version}; GPT-2-small shape (d ${D}, ${LAYERS} layers, V ${VOCAB}), batch 1`);
    const dir = path.join(tmp, 'gpt2-small-random');
    writeModel(dir);
    const cache = path.join(tmp, 'cache');
    run(dir, cache, 16, 'last'); // builds the weight cache
    const peak = await bareMatmul(64);
    console.log(`bare onnxruntime MatMul 64×${D} · ${D}×${VOCAB} (compute-bound): ${peak.gflops.toFixed(1)} GFLOP/s, this machine's sgemm reference`);
    for (const n of lengths) {
      const last = run(dir, cache, n, 'last');
      const pos = run(dir, cache, n, 'prompt');
      // lens: every position × layer through the unembedding; decoder: ~2 FLOP per parameter per token
      const lensGflop = (n * LAYERS * 2 * D * VOCAB) / 1e9;
      console.log(
        `${String(n).padStart(4)} tokens: positions 'prompt' ${pos.seconds.toFixed(2)} s (${pos.rows} positions × ${LAYERS} layers; lens ${lensGflop.toFixed(0)} GFLOP → ${(lensGflop / pos.seconds).toFixed(1)} GFLOP/s, ${((100 * lensGflop) / pos.seconds / peak.gflops).toFixed(0)}% of the MatMul), ` +
          `peak RSS ${pos.peakRssMB.toFixed(0)} MB | baseline, last position only: ${last.seconds.toFixed(2)} s, peak RSS ${last.peakRssMB.toFixed(0)} MB`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
