/**
 * Fuzzing the results-manifest reader: random bytes, a real manifest with its fields replaced by
 * random JSON (huge and negative numbers, long strings, wrong types, deep nesting, paths in shard
 * entries, huge shard counts), and random writer records, each put into a real results folder and
 * read through the public API (readResults, datasetStatus). A case fails when anything but a
 * UserError escapes, a case takes over a second of CPU, or memory grows by more than a small
 * multiple of the input (an allocation sized by a number in the manifest).
 *
 *   node dist/tools/fuzz-manifest.js --cases 20000 [--seed 1]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResultsWriter, datasetStatus, readResults } from '../src/store/index.js';
import { UserError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';

export interface ManifestFuzzOptions {
  cases: number;
  seed: number;
  /** Stop adding cases after this many milliseconds of wall time; default none. */
  budgetMs?: number;
}

export interface ManifestFuzzReport {
  cases: number;
  accepted: number;
  refused: number;
  failures: { kind: string; message: string; manifest: string; caseIndex: number }[];
  slowestMs: number;
  maxHeapGrowthBytes: number;
}

const SLOW_MS = 1000;

function randomJson(rng: Rng, depth = 0): unknown {
  const k = Math.floor(rng.next() * (depth > 3 ? 6 : 9));
  switch (k) {
    case 0:
      return null;
    case 1:
      return rng.next() < 0.5;
    case 2:
      return [0, -1, 1, 1e308, -1e308, 2 ** 53 + 2, 1e12, 0.5, -0.0][Math.floor(rng.next() * 9)];
    case 3:
      return ['', 'x', '../..', '/dev/zero', 'part-0.parquet', '../x.parquet', 'a'.repeat(1 + Math.floor(rng.next() * 5000)), '\u0000', '__proto__'][Math.floor(rng.next() * 9)];
    case 4:
      return Math.floor(rng.next() * 2 ** 31) - 2 ** 30;
    case 5:
      return 'entropylens-results';
    case 6:
      return Array.from({ length: Math.floor(rng.next() * 5) }, () => randomJson(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rng.next() * 5); i > 0; i--) o[['file', 'count', 'rows', 'shards', 'a', 'string', 'int'][Math.floor(rng.next() * 7)]] = randomJson(rng, depth + 1);
      return o;
    }
  }
}

const FIELDS = ['format', 'version', 'model', 'experiment', 'options', 'codeVersion', 'labelColumns', 'createdAt', 'updatedAt', 'shards', 'sharding'];

function mutateManifest(rng: Rng, base: Record<string, unknown>): string {
  const m: Record<string, unknown> = structuredClone(base);
  const kind = Math.floor(rng.next() * 8);
  if (kind === 0) return Buffer.from(Array.from({ length: Math.floor(rng.next() * 200) }, () => Math.floor(rng.next() * 256))).toString('latin1');
  if (kind === 1) return `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  if (kind === 2) {
    const text = JSON.stringify(m);
    const cut = Math.floor(rng.next() * text.length);
    return text.slice(0, cut) + text.slice(cut + 1 + Math.floor(rng.next() * 5));
  }
  if (kind === 3) m.sharding = { count: [1e12, 2 ** 31, -5, 3.5, 1e6, 100_000, 2][Math.floor(rng.next() * 7)] };
  if (kind === 4) m.shards = Array.from({ length: Math.floor(rng.next() * 4) }, () => ({ file: randomJson(rng), rows: randomJson(rng) }));
  for (let i = 1 + Math.floor(rng.next() * 3); i > 0; i--) {
    const f = FIELDS[Math.floor(rng.next() * FIELDS.length)];
    if (rng.next() < 0.2) delete m[f];
    else m[f] = randomJson(rng);
  }
  return JSON.stringify(m);
}

export async function fuzzManifest(o: ManifestFuzzOptions): Promise<ManifestFuzzReport> {
  const rng = new Rng(o.seed);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'el-manifest-fuzz-'));
  const report: ManifestFuzzReport = { cases: 0, accepted: 0, refused: 0, failures: [], slowestMs: 0, maxHeapGrowthBytes: 0 };
  try {
    const dir = path.join(root, 'ds');
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', options: { a: 1 }, labelColumns: { y: 'string' } });
    await w.appendShard([{ sample_id: 's0', metric: 'shannon', labels: { y: 'a' }, n_steps: 1, n_layers: 2, values: [1, 2], sample_index: 0 }]);
    await w.finish();
    const manifestFile = path.join(dir, 'manifest.json');
    const base = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
    const recordFile = path.join(dir, 'writers', 'fuzz.json');
    const t0 = Date.now();
    for (let i = 0; i < o.cases; i++) {
      if (o.budgetMs !== undefined && Date.now() - t0 > o.budgetMs) break;
      const text = mutateManifest(rng, base);
      fs.writeFileSync(manifestFile, text);
      if (rng.next() < 0.3) fs.writeFileSync(recordFile, JSON.stringify({ writer: 'fuzz', state: rng.next() < 0.5 ? 'complete' : 'running', shard: randomJson(rng), samplesDone: randomJson(rng), files: randomJson(rng) }));
      else fs.rmSync(recordFile, { force: true });
      const heap0 = process.memoryUsage();
      const cpu0 = process.cpuUsage();
      report.cases++;
      try {
        await readResults(dir, { partial: rng.next() < 0.5 });
        await datasetStatus(dir);
        report.accepted++;
      } catch (err) {
        if (err instanceof UserError) report.refused++;
        else report.failures.push({ kind: 'exception', message: String((err as Error)?.stack ?? err), manifest: text.slice(0, 2000), caseIndex: i });
      }
      const cpu = process.cpuUsage(cpu0);
      const ms = (cpu.user + cpu.system) / 1000;
      report.slowestMs = Math.max(report.slowestMs, ms);
      if (ms > SLOW_MS) report.failures.push({ kind: 'slow', message: `${ms.toFixed(0)} ms of CPU`, manifest: text.slice(0, 2000), caseIndex: i });
      const heap1 = process.memoryUsage();
      const growth = heap1.heapUsed + heap1.arrayBuffers - heap0.heapUsed - heap0.arrayBuffers;
      report.maxHeapGrowthBytes = Math.max(report.maxHeapGrowthBytes, growth);
      // The reader holds the input and a few copies at most; far more means an allocation sized by a number in it.
      if (growth > 64 * text.length + (64 << 20)) report.failures.push({ kind: 'memory', message: `${(growth / 2 ** 20).toFixed(0)} MiB`, manifest: text.slice(0, 2000), caseIndex: i });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (name: string, def: number): number => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : def;
  };
  const r = await fuzzManifest({ cases: arg('--cases', 20000), seed: arg('--seed', 1) });
  console.log(`${r.cases} cases: ${r.accepted} accepted, ${r.refused} refused, ${r.failures.length} failures; slowest ${r.slowestMs.toFixed(1)} ms CPU, largest heap growth ${(r.maxHeapGrowthBytes / 2 ** 20).toFixed(1)} MiB`);
  for (const f of r.failures.slice(0, 10)) console.log(`case ${f.caseIndex} (${f.kind}): ${f.message}\n  manifest: ${f.manifest.slice(0, 300)}`);
  process.exitCode = r.failures.length ? 1 : 0;
}
