/**
 * The store against damaged or hostile folders (issue: hardening of the results store): part files
 * confined to the folder and regular, manifests checked field by field, damaged parts named and
 * droppable, NaN rows counted, figures written atomically, shard selection from array-job variables.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveShard, shardModels, shardSamples } from '../../src/experiments/shard.js';
import { parseManifest } from '../../src/store/layout.js';
import { DamagedPartError, ResultsWriter, mergeDataset, profilesOf, readResults, sameModel, type ResultRowInput } from '../../src/store/index.js';
import { renderSpec } from '../../src/plot/render.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const roots: string[] = [];
after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));
function tmp(): string {
  const d = tempDir('el-store-robust-');
  roots.push(d);
  return d;
}

function rows(ids: number[], values?: (i: number) => number[]): ResultRowInput[] {
  return ids.map((i) => ({ sample_id: `s${i}`, metric: 'shannon', labels: { y: `c${i % 2}` }, n_steps: 1, n_layers: 2, values: values ? values(i) : [i, i + 0.5], sample_index: i }));
}

async function dataset(): Promise<{ dir: string; files: string[] }> {
  const dir = tmp();
  const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', labelColumns: { y: 'string' } });
  const a = await w.appendShard(rows([0, 1]));
  const b = await w.appendShard(rows([2, 3]));
  return { dir, files: [a.file, b.file] };
}

function editManifest(dir: string, edit: (m: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m));
}

describe('results folders', () => {
  it('a manifest entry that points outside the folder is refused, never read', async () => {
    const { dir } = await dataset();
    const outside = path.join(tmp(), 'x.parquet');
    fs.copyFileSync(path.join(dir, fs.readdirSync(dir).find((f) => f.startsWith('part-'))!), outside);
    for (const bad of [`../${path.basename(path.dirname(outside))}/x.parquet`, outside, '/dev/zero', 'sub/part-1.parquet']) {
      editManifest(dir, (m) => (m.shards = [{ file: bad, rows: 1 }]));
      await assert.rejects(readResults(dir), (e: Error) => e instanceof UserError && e.message.includes('not a part file inside the folder'), bad);
    }
  });

  it('repeated manifest entries count once; a listed part that is missing is named', async () => {
    const { dir, files } = await dataset();
    editManifest(dir, (m) => (m.shards = [{ file: files[0] }, { file: files[0] }, { file: files[1] }]));
    assert.equal((await readResults(dir)).rows.length, 4);
    editManifest(dir, (m) => (m.shards = [{ file: 'part-gone-00000.parquet' }]));
    await assert.rejects(readResults(dir), /part-gone-00000\.parquet is listed in the manifest but missing/);
  });

  it('a FIFO, a device link or a symlink under a part-file name is refused at once', async () => {
    for (const make of [
      (f: string) => execFileSync('mkfifo', [f]),
      (f: string) => fs.symlinkSync('/dev/zero', f),
      (f: string) => fs.symlinkSync('/etc/hostname', f),
    ]) {
      const { dir } = await dataset();
      make(path.join(dir, 'part-evil-00000.parquet'));
      const t0 = Date.now();
      await assert.rejects(readResults(dir), /part-evil-00000\.parquet is (a symbolic link|not a regular file)/);
      await assert.rejects(ResultsWriter.open(dir, { model: 'm', experiment: 'e' }), /part-evil/);
      assert.ok(Date.now() - t0 < 5000, 'no hang');
    }
  });

  it('structurally wrong manifests give a message naming the field, never a TypeError', () => {
    const base = { format: 'entropylens-results', version: 2, model: 'm', experiment: 'e', options: {}, labelColumns: {}, shards: [] };
    const cases: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      [[1, 2], /not a JSON object/],
      [{ ...base, version: 'x' }, /"version"/],
      [{ ...base, version: 99 }, /newer entropylens/],
      [{ ...base, model: 3 }, /"model"/],
      [{ ...base, options: 'x' }, /"options"/],
      [{ ...base, labelColumns: { a: 'float128' } }, /label column 'a'/],
      [{ ...base, shards: {} }, /"shards" is not a list/],
      [{ ...base, shards: [null] }, /shard entry 0/],
      [{ ...base, sharding: { count: -1 } }, /sharding\.count/],
    ];
    for (const [m, re] of cases) assert.throws(() => parseManifest(JSON.stringify(m), 'manifest.json'), (e: Error) => e instanceof UserError && re.test(e.message), JSON.stringify(m));
    assert.throws(() => parseManifest('{"format": ', 'manifest.json'), /not valid JSON/);
  });

  it('a truncated part file is named; --drop-damaged moves it aside and its samples are redone', async () => {
    const { dir, files } = await dataset();
    const victim = path.join(dir, files[1]);
    fs.truncateSync(victim, Math.floor(fs.statSync(victim).size / 2));
    await assert.rejects(readResults(dir), (e: Error) => e instanceof DamagedPartError && e.message.includes(victim) && e.message.includes('--drop-damaged'));
    await assert.rejects(ResultsWriter.open(dir, { model: 'm', experiment: 'e' }), DamagedPartError);
    const dropped: string[] = [];
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', dropDamaged: true, onDropped: (f) => dropped.push(f) });
    assert.deepEqual(dropped, [victim]);
    assert.ok(fs.existsSync(`${victim}.damaged`));
    assert.deepEqual([...w.existingSampleIds()].sort(), ['s0', 's1'], 'the dropped part\'s samples are to be redone');
    await w.appendShard(rows([2, 3]));
    assert.deepEqual((await readResults(dir)).rows.map((r) => r.sample_id), ['s0', 's1', 's2', 's3']);
  });

  it('a sample written twice (two writers) is read once; merge leaves one part file with each sample once', async () => {
    const { dir } = await dataset();
    const w2 = await ResultsWriter.open(dir, { model: 'm', experiment: 'e' });
    await w2.appendShard(rows([1, 2, 4]));
    const d = await readResults(dir);
    assert.deepEqual(d.rows.map((r) => r.sample_id), ['s0', 's1', 's2', 's3', 's4']);
    assert.equal(d.duplicateRows, 2);
    const m = await mergeDataset(dir);
    assert.deepEqual([m.partsBefore, m.partsAfter, m.samples, m.duplicateRows], [3, 1, 5, 2]);
    assert.deepEqual((await readResults(dir)).rows.map((r) => r.sample_id), ['s0', 's1', 's2', 's3', 's4']);
  });

  it('writers opening a new folder at the same moment all get in, on one manifest', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = path.join(tmp(), 'race');
      const writers = await Promise.all(Array.from({ length: 6 }, () => ResultsWriter.open(dir, { model: 'm', experiment: 'e', options: { a: 1 }, labelColumns: { y: 'string' } })));
      assert.equal(new Set(writers.map((w) => w.writerId)).size, 6);
      assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('manifest')).length, 1);
    }
  });

  it('a sample whose metrics were appended separately is one sample, not a duplicate', async () => {
    const dir = tmp();
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', labelColumns: { y: 'string' } });
    await w.appendShard(rows([0, 1]));
    await w.appendShard(rows([0, 1]).map((r) => ({ ...r, metric: 'renyi:2' })));
    const d = await readResults(dir);
    assert.equal(d.rows.length, 4);
    assert.equal(d.duplicateRows, 0);
  });

  it('rows with NaN or Inf are stored as they are and left out of the analysis, counted', async () => {
    const dir = tmp();
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', labelColumns: { y: 'string' } });
    await w.appendShard(rows([0, 1, 2, 3], (i) => (i === 1 ? [NaN, 1] : i === 2 ? [Infinity, 1] : [i, 1])));
    const d = await readResults(dir);
    assert.ok(Number.isNaN(d.rows[1].values[0]));
    const p = profilesOf(d.rows, 'shannon');
    assert.equal(p.nonFinite, 2);
    assert.deepEqual(p.rows.map((r) => r.sample_id), ['s0', 's3']);
  });

  it('a folder that is not a results folder, or that cannot be written, is refused with its name', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await assert.rejects(ResultsWriter.open(dir, { model: 'm', experiment: 'e' }), /is not an entropylens results folder/);
    assert.ok(!fs.existsSync(path.join(dir, 'writers')), 'nothing is created in a foreign folder');
    await assert.rejects(ResultsWriter.open('/sys/entropylens-test/out', { model: 'm', experiment: 'e' }), /cannot write the results folder \/sys\/entropylens-test\/out .*--out/);
  });

  it('the same model given as a relative and as an absolute path is the same model', () => {
    const d = tmp();
    const rel = path.relative(process.cwd(), d);
    assert.ok(sameModel(rel, d));
    assert.ok(sameModel(`${rel},${d}`, `${d},${rel}`));
    assert.ok(!sameModel('gpt2', 'gpt2-medium'));
  });
});

/** A tiny tmpfs (root only): a full disk on demand. Undefined where it cannot be mounted. */
function smallDisk(kib: number): { dir: string; release: () => void } | undefined {
  const dir = tmp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { dir, release: () => execFileSync('umount', [dir]) };
}

describe('a full disk', () => {
  const spec = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 600, height: 400, data: { values: Array.from({ length: 200 }, (_, i) => ({ a: i, b: Math.sin(i) })) }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } };

  it('never leaves a partial figure, spec or part file', async (t) => {
    const disk = smallDisk(48);
    if (!disk) return t.skip('cannot mount a small tmpfs here (needs root): the full-disk case is not exercised');
    try {
      await assert.rejects(renderSpec(spec as never, path.join(disk.dir, 'fig')), /ENOSPC/);
      for (const f of fs.readdirSync(disk.dir)) {
        assert.ok(!f.includes('.tmp-'), `temporary ${f} removed`);
        const size = fs.statSync(path.join(disk.dir, f)).size;
        if (f.endsWith('.vl.json')) assert.doesNotThrow(() => JSON.parse(fs.readFileSync(path.join(disk.dir, f), 'utf8')), `${f} is whole`);
        assert.ok(size > 0, `${f} is not empty`);
      }
      assert.ok(!fs.existsSync(path.join(disk.dir, 'fig.png')), 'no PNG rather than part of one');
      // The store: parts are written until the disk is full; every part that exists reads whole.
      fs.readdirSync(disk.dir).forEach((f) => fs.rmSync(path.join(disk.dir, f), { force: true }));
      const w = await ResultsWriter.open(path.join(disk.dir, 'run'), { model: 'm', experiment: 'e', labelColumns: { y: 'string' } });
      let full = false;
      for (let i = 0; i < 200 && !full; i++) {
        await w.appendShard(rows([i], () => Array.from({ length: 2 }, Math.random))).catch((e: NodeJS.ErrnoException) => {
          assert.equal(e.code, 'ENOSPC');
          full = true;
        });
      }
      assert.ok(full, 'the disk filled up');
      const back = await readResults(path.join(disk.dir, 'run'));
      assert.ok(back.rows.length > 0);
      assert.deepEqual(fs.readdirSync(path.join(disk.dir, 'run')).filter((f) => f.includes('.tmp-')), []);
    } finally {
      disk.release();
    }
  });
});

describe('--shard', () => {
  it('i/N, Slurm arrays (relative to the first task) and Kubernetes indexed jobs', () => {
    assert.equal(resolveShard(undefined, undefined), null);
    assert.deepEqual(resolveShard('3/16', undefined, {}), { index: 3, count: 16 });
    assert.deepEqual(resolveShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 2, count: 4 });
    assert.deepEqual(resolveShard('auto', 5, { JOB_COMPLETION_INDEX: '4' }), { index: 4, count: 5 });
    const bad: [string | undefined, number | undefined, Record<string, string>, RegExp][] = [
      ['auto', undefined, {}, /neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/],
      ['auto', undefined, { JOB_COMPLETION_INDEX: '1' }, /needs --shards N/],
      ['auto', undefined, { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }, /contiguous array/],
      ['4/4', undefined, {}, /below 4/],
      ['1-4', undefined, {}, /expected i\/N/],
      [undefined, 4, {}, /goes with --shard auto/],
    ];
    for (const [spec, n, env, re] of bad) assert.throws(() => resolveShard(spec, n, env), re, String(spec));
  });

  it('every sample lands in exactly one shard, sizes differ by at most one; families split by model', () => {
    const samples = Array.from({ length: 103 }, (_, index) => ({ index }));
    const parts = Array.from({ length: 7 }, (_, i) => shardSamples(samples, { index: i, count: 7 }));
    assert.deepEqual(parts.flat().map((s) => s.index).sort((a, b) => a - b), samples.map((s) => s.index));
    const sizes = parts.map((p) => p.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    assert.deepEqual(shardModels(['a', 'b', 'c'], { index: 1, count: 2 }), [1]);
    assert.throws(() => shardModels(['a', 'b'], { index: 0, count: 3 }), /only 2 models/);
  });
});
