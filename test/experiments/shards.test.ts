/**
 * Runs split over several processes, through the real CLI: a run in 3 shards equals the unsharded
 * run; three concurrent writers on one --out (one killed midway) leave every sample exactly once;
 * a resumed run that batches other samples together stays within the documented bound.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { generateStories } from '../../src/datasets/demo-stories.js';
import { readResults, type ResultRow } from '../../src/store/index.js';
import { CLI, runCli, runCliAsync } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

/** What a resumed, sharded or concurrent run guarantees against an uninterrupted one (README "What entropylens guarantees"). */
const VALUE_BOUND = 1e-5;

let root: string;
let model: string;
let cache: string;
let stories: string;
let reference: ResultRow[];

const args = (out: string, ...extra: string[]): string[] => [
  'run', 'tinystories', '--model', model, '--dataset', stories, '--n-stories', '4', '--max-new-tokens', '3', '--temperature', '1',
  '--seed', '5', '--out', out, '--cache-dir', cache, '--update-steps', '5', '--batch-size', '4', '--no-figures', ...extra,
];

before(() => {
  root = tempDir('el-shards-');
  cache = path.join(root, 'cache');
  model = writeTinyLlama(path.join(root, 'tiny-llama'), { layers: 3, seed: 3 });
  stories = path.join(root, 'stories.jsonl');
  fs.writeFileSync(stories, generateStories(7, 4).map((s) => JSON.stringify({ text: s.text })).join('\n') + '\n');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

async function referenceRun(): Promise<ResultRow[]> {
  if (!reference) {
    const out = path.join(root, 'whole');
    const r = runCli(args(out));
    assert.equal(r.code, 0, r.stderr);
    reference = (await readResults(out)).rows;
    assert.equal(reference.length, 96);
  }
  return reference;
}

/** Same samples in the same order, identical tokens, values within VALUE_BOUND; returns the largest difference. */
function assertSameRun(got: ResultRow[], want: ResultRow[]): number {
  assert.deepEqual(got.map((r) => r.sample_id), want.map((r) => r.sample_id), 'same samples, same order');
  let worst = 0;
  got.forEach((r, i) => {
    const w = want[i];
    assert.equal(r.completion, w.completion, `${r.sample_id}: the same tokens`);
    assert.deepEqual(r.labels, w.labels);
    r.values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - w.values[j]))));
  });
  assert.ok(worst <= VALUE_BOUND, `values within ${VALUE_BOUND} nats: largest difference ${worst}`);
  return worst;
}

/** The sample ids of every row in the folder's Parquet files, read directly (as pandas or DuckDB would). */
async function rawSampleIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const f of fs.readdirSync(dir).filter((f) => /^part-.*\.parquet$/.test(f))) {
    const b = fs.readFileSync(path.join(dir, f));
    const rows = await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, columns: ['sample_id'] });
    ids.push(...rows.map((r) => String(r.sample_id)));
  }
  return ids;
}

function partCount(dir: string): number {
  try {
    return fs.readdirSync(dir).filter((f) => /^part-.*\.parquet$/.test(f)).length;
  } catch {
    return 0;
  }
}

describe('sharded runs (--shard i/N)', () => {
  it('3 shards, one after another, equal the unsharded run; missing shards are named until then', async () => {
    const want = await referenceRun();
    const out = path.join(root, 'sharded');
    for (const i of [2, 0]) assert.equal(runCli(args(out, '--shard', `${i}/3`)).code, 0);

    const ev = runCli(['evaluate', out, '--label', 'task']);
    assert.notEqual(ev.code, 0);
    assert.match(ev.stderr, /3 shards and 1 is not complete \(shard 1\)/);
    assert.match(ev.stderr, /--partial/);
    const partial = await readResults(out, { partial: true });
    assert.deepEqual(partial.missingShards, [1]);
    assert.equal(partial.rows.length, 64);
    const status = runCli(['status', out]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /3 shards: 2 complete, 1 not started/);
    assert.match(status.stdout, /shard 0\s+complete\s+32 \/ 32 samples/);

    const refused = runCli(args(out, '--shard', '1/3', '--max-new-tokens', '4'));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /other options \(--max-new-tokens: 3 on disk vs 4 now\)/);
    const otherCount = runCli(args(out, '--shard', '1/4'));
    assert.match(otherCount.stderr, /split into 3 shards/);

    const last = runCli(args(out, '--shard', '1/3'));
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, /kNN on entropy profiles/, 'the shard that completes the run evaluates it');
    assertSameRun((await readResults(out)).rows, want);
    assert.equal(runCli(['evaluate', out, '--label', 'task']).code, 0);

    const merged = runCli(['merge', out]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, /into 1: 96 samples, 96 rows/);
    assert.equal(partCount(out), 1);
    assertSameRun((await readResults(out)).rows, want);
  });

  it('three concurrent writers on one --out, one killed midway: every sample exactly once', async () => {
    const want = await referenceRun();
    const out = path.join(root, 'concurrent');
    // Different --update-steps (not a run option): before part files were named by their writer, the
    // writers numbered their parts alike and renamed over each other's (samples lost, others twice).
    const a = runCliAsync(args(out, '--update-steps', '7'));
    const b = runCliAsync(args(out, '--update-steps', '3'));
    const victim = spawn(process.execPath, [CLI, ...args(out)], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (partCount(out) >= 3 || victim.exitCode !== null) {
          clearInterval(poll);
          victim.kill('SIGKILL');
          resolve();
        } else if (Date.now() - started > 60_000) {
          clearInterval(poll);
          reject(new Error('no part files within 60 s'));
        }
      }, 5);
    });
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const got = await readResults(out);
    assertSameRun(got.rows, want);
    const raw = await rawSampleIds(out);
    assert.equal(raw.length, new Set(raw).size, 'the Parquet files themselves hold each sample once');
    assert.equal(raw.length, 96);
  });

  it('a resumed run that batches other samples together: same tokens, values within the bound', async () => {
    const want = await referenceRun();
    const out = path.join(root, 'resumed');
    // --update-steps 3 with --batch-size 4: the resumed run's batches hold other samples than the first run's.
    const child = spawn(process.execPath, [CLI, ...args(out, '--update-steps', '3')], { stdio: 'ignore' });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (partCount(out) >= 5 || child.exitCode !== null) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.on('exit', r)));
    const r = runCli(args(out, '--update-steps', '3'));
    assert.equal(r.code, 0, r.stderr);
    assertSameRun((await readResults(out)).rows, want);
  });

  it('refuses an empty dataset, an unwritable --out, and resumes a model given by another path to the same folder', () => {
    const empty = path.join(root, 'empty.csv');
    fs.writeFileSync(empty, 'text\n'); // the column, no stories: before, "0 samples written" and exit 0
    const e = runCli(['run', 'tinystories', '--model', model, '--dataset', empty, '--out', path.join(root, 'empty-out'), '--cache-dir', cache, '--no-figures']);
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, /no samples to profile: the dataset is empty/);
    assert.doesNotMatch(e.stdout, /0 samples written/);

    const ro = runCli(args('/sys/entropylens-test-out'));
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /cannot write the results folder \/sys\/entropylens-test-out/);

    const out = path.join(root, 'by-path');
    const relative = path.relative(process.cwd(), model);
    const first = runCli(args(out, '--limit', '10').map((a) => (a === model ? relative : a)));
    assert.equal(first.code, 0, first.stderr);
    const again = runCli(args(out, '--limit', '10'));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 samples written, 10 already on disk/);
  });
});
