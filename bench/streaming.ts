/**
 * `profile` on many prompts: peak RSS and time at 1k, 10k and 100k prompts on the demo model
 * (JSONL prompts of 5–40 words, 1 new token, batch 8, --json to /dev/null through a pipe). Prompts
 * are read, tokenized and batched a window at a time, so the peak should not grow with the count.
 *
 * Usage: node dist/bench/streaming.js [--counts 1000,10000,100000]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assetPath } from '../src/util/package.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const arg = process.argv.indexOf('--counts');
const counts = (arg >= 0 ? process.argv[arg + 1] : '1000,10000,100000').split(',').map(Number);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-stream-'));
const words = 'the little fox ran over a hill and found some bread near an old tree by the river'.split(' ');
try {
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, Node ${process.version}`);
  const env = { ...process.env, ENTROPYLENS_CACHE: path.join(tmp, 'cache') };
  spawnSync(process.execPath, [cli, 'profile', assetPath('demo-model'), '--prompt', 'warm up', '--max-new-tokens', '1'], { env });
  for (const n of counts) {
    const file = path.join(tmp, `prompts-${n}.jsonl`);
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < n; i++) {
      const len = 5 + ((i * 7919) % 36);
      fs.writeSync(fd, JSON.stringify({ prompt: Array.from({ length: len }, (_, j) => words[(i + j) % words.length]).join(' ') }) + '\n');
    }
    fs.closeSync(fd);
    const t = performance.now();
    const r = spawnSync(process.execPath, [cli, 'profile', assetPath('demo-model'), '--prompts-file', file, '--max-new-tokens', '1', '--json', '--quiet'], { env, maxBuffer: 2 ** 31 - 1 });
    if (r.status !== 0) throw new Error(r.stderr.toString());
    const out = r.stdout.toString();
    const doc = JSON.parse(out.slice(out.lastIndexOf('"timing":') - 1).replace(/^,/, '{')) as { memory: { peak_rss_mb: number } };
    const s = (performance.now() - t) / 1000;
    console.log(`${String(n).padStart(7)} prompts: peak RSS ${doc.memory.peak_rss_mb} MB, ${s.toFixed(1)} s (${(n / s).toFixed(0)} prompts/s), output ${(out.length / 2 ** 20).toFixed(1)} MB`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
