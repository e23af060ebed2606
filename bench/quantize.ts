/**
 * `--quantize int8` against the exact float32 path on the GPT-2-small shape (random float32 weights,
 * 475 MB): 8 prompts of 128 token ids, 8 greedy tokens, batch 8, through the real CLI, each mode in
 * its own process — cold (the weight cache is built) and warm — printing load and generate time,
 * peak RSS and the weight cache's size on disk, measured in the same run.
 *
 * Usage: node dist/bench/quantize.js
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { folderBytes } from './disk.js';
import { writeModel } from './gpt2-small.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-quant-'));

function prompts(): string[] {
  let s = 99;
  return Array.from({ length: 8 }, () =>
    [50256, ...Array.from({ length: 127 }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % 50000;
    })].join(','),
  );
}

try {
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, Node ${process.version}; GPT-2-small shape, float32 checkpoint`);
  const model = path.join(tmp, 'gpt2-small-random');
  writeModel(model);
  const ckptMB = fs.statSync(path.join(model, 'model.safetensors')).size / 2 ** 20;
  for (const mode of ['exact', 'int8']) {
    const cache = path.join(tmp, `cache-${mode}`);
    for (const pass of ['cold', 'warm']) {
      const args = ['profile', model, '--cache-dir', cache, '--max-new-tokens', '8', '--batch-size', '8', '--json', ...prompts().flatMap((p) => ['--input-ids', p])];
      if (mode === 'int8') args.push('--quantize', 'int8');
      const out = execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
      const doc = JSON.parse(out) as { timing: { load_seconds: number; generate_seconds: number }; memory: { peak_rss_mb: number } };
      console.log(
        `${mode.padEnd(5)} ${pass}: load ${doc.timing.load_seconds.toFixed(1)} s, generate ${doc.timing.generate_seconds.toFixed(2)} s, ` +
          `peak RSS ${doc.memory.peak_rss_mb} MB (${(doc.memory.peak_rss_mb / ckptMB).toFixed(2)}× the ${ckptMB.toFixed(0)} MB checkpoint)` +
          (pass === 'cold' ? `, weight cache on disk ${(folderBytes(cache) / 2 ** 20).toFixed(1)} MB` : ''),
      );
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
