import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { ResultsWriter, readResults, type ResultRowInput } from '../../src/store/index.js';

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'entropylens-store-'));
}

function rowsFor(ids: number[], metric: string): ResultRowInput[] {
  return ids.map((i) => ({
    sample_id: `s${i}`,
    metric,
    labels: { subject: i % 3 === 0 ? null : `sub${i % 3}`, correct: i % 2 === 0, story_id: i, score: i / 7, flavour: `f${i}` },
    prompt: `prompt ${i} — ünïcode`,
    completion: `completion ${i}`,
    n_steps: 2,
    n_layers: 3,
    values: Float32Array.from({ length: 6 }, (_, j) => i + j / 10),
  }));
}

const labelColumns = { subject: 'string', correct: 'boolean', story_id: 'int', score: 'double', flavour: 'string' } as const;

test('store: write shards, read them back with the same types, resume by sample_id', async () => {
  const dir = await tmp();
  try {
    const w = await ResultsWriter.open(dir, { model: 'tiny-gpt2', experiment: 'mmlu', options: { steps: 8 }, codeVersion: '0.1.0-test', labelColumns });
    assert.equal(w.existingSampleIds().size, 0);
    const a = await w.appendShard([...rowsFor([0, 1, 2], 'shannon'), ...rowsFor([0, 1, 2], 'renyi:0.5')]);
    const b = await w.appendShard(rowsFor([3, 4], 'shannon'));
    // Part files carry the writer's id, so two writers can never pick the same name.
    assert.match(a.file, /^part-[0-9a-f]{8}-00000\.parquet$/);
    assert.equal(b.file, a.file.replace('-00000.', '-00001.'));
    assert.equal(a.rows, 6);
    assert.equal(a.samples, 3);

    const { manifest, rows } = await readResults(dir);
    assert.equal(manifest.model, 'tiny-gpt2');
    assert.deepEqual(manifest.options, { steps: 8 });
    assert.deepEqual(manifest.shards.map((s) => s.file), [a.file, b.file]);
    assert.equal(rows.length, 8);
    const r1 = rows.find((r) => r.sample_id === 's1' && r.metric === 'shannon');
    assert.ok(r1);
    assert.equal(r1.model, 'tiny-gpt2');
    assert.equal(r1.experiment, 'mmlu');
    assert.equal(r1.prompt, 'prompt 1 — ünïcode');
    assert.equal(r1.n_steps, 2);
    assert.equal(r1.n_layers, 3);
    assert.ok(r1.values instanceof Float32Array);
    assert.deepEqual(Array.from(r1.values), Array.from(Float32Array.from([1, 1.1, 1.2, 1.3, 1.4, 1.5])));
    assert.deepEqual(r1.labels, { subject: 'sub1', correct: false, story_id: 1, score: 1 / 7, flavour: 'f1' });
    const r0 = rows.find((r) => r.sample_id === 's0');
    assert.equal(r0?.labels.subject, null);
    assert.equal(r0?.labels.correct, true);

    const onlyRenyi = await readResults(dir, { metric: 'renyi:0.5' });
    assert.deepEqual(onlyRenyi.rows.map((r) => r.sample_id), ['s0', 's1', 's2']);
    assert.equal((await readResults(dir, { model: 'other' })).rows.length, 0);

    // Reopen: the ids on disk are known; the new writer's part files have a name of their own.
    const w2 = await ResultsWriter.open(dir, { model: 'tiny-gpt2', experiment: 'mmlu', labelColumns: { extra: 'string' } });
    assert.deepEqual([...w2.existingSampleIds()].sort(), ['s0', 's1', 's2', 's3', 's4']);
    const c = await w2.appendShard([{ ...rowsFor([5], 'shannon')[0], labels: { extra: 'x', correct: true } }]);
    assert.notEqual(c.file.slice(0, 13), a.file.slice(0, 13));
    const all = await readResults(dir);
    assert.equal(all.rows.length, 9);
    // Older shards lack the new column: it reads as null there.
    assert.equal(all.rows.find((r) => r.sample_id === 's0')!.labels.extra, null);
    assert.equal(all.rows.find((r) => r.sample_id === 's5')!.labels.extra, 'x');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: temporaries of a writer that died are removed, those of a live writer are kept', async () => {
  const dir = await tmp();
  try {
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', labelColumns: { correct: 'boolean' } });
    await w.appendShard(rowsFor([1, 2], 'shannon').map((r) => ({ ...r, labels: { correct: true } })));
    const dead = join(dir, 'part-deadbeef-00000.parquet.tmp-999999999-0a0b0c0d'); // no such pid
    const live = join(dir, `part-cafecafe-00000.parquet.tmp-${process.pid}-01020304`);
    const fresh = join(dir, 'part-feedfeed-00000.parquet.tmp-999999998-0a0b0c0e');
    for (const f of [dead, live, fresh]) await writeFile(f, 'partial');
    const old = new Date(Date.now() - 5 * 60_000);
    for (const f of [dead, live]) await utimes(f, old, old);
    assert.equal((await readResults(dir)).rows.length, 2, 'readers ignore temporaries');
    await ResultsWriter.open(dir, { model: 'm', experiment: 'e' });
    const files = readdirSync(dir);
    assert.ok(!files.includes(basename(dead)), 'the dead writer\'s temporary is removed');
    assert.ok(files.includes(basename(live)), 'a live writer\'s temporary is kept');
    assert.ok(files.includes(basename(fresh)), 'a temporary younger than a minute is kept (its writer may be on another host)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: rows that break the schema are refused with a message naming the row', async () => {
  const dir = await tmp();
  try {
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', labelColumns: { correct: 'boolean' } });
    await assert.rejects(w.appendShard([{ sample_id: 'a', metric: 'shannon', n_steps: 2, n_layers: 2, values: [1, 2, 3] }]), /values has 3 entries/);
    await assert.rejects(w.appendShard([{ sample_id: 'a', metric: 'shannon', n_steps: 1, n_layers: 1, values: [1], labels: { nope: 'x' } }]), /label 'nope' is not declared/);
    await assert.rejects(w.appendShard([{ sample_id: 'a', metric: 'shannon', n_steps: 1, n_layers: 1, values: [1], labels: { correct: 'yes' } }]), /not a boolean/);
    await assert.rejects(ResultsWriter.open(dir, { model: 'other', experiment: 'e' }), /holds e results of m/);
    await assert.rejects(ResultsWriter.open(dir, { model: 'm', experiment: 'e', labelColumns: { values: 'string' } }), /clashes/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: shards use standard Parquet types (UTF8 strings, LIST of FLOAT, INT32, BOOLEAN, DOUBLE)', async () => {
  const dir = await tmp();
  try {
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', labelColumns });
    const part = await w.appendShard(rowsFor([1, 2], 'shannon'));
    const buf = await readFile(join(dir, part.file));
    const md = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    const el = Object.fromEntries(md.schema.map((e) => [e.name, e]));
    for (const c of ['sample_id', 'model', 'experiment', 'metric', 'prompt', 'completion', 'subject', 'flavour']) {
      assert.equal(el[c].type, 'BYTE_ARRAY', c);
      assert.equal(el[c].converted_type, 'UTF8', c);
    }
    assert.equal(el.correct.type, 'BOOLEAN');
    assert.equal(el.story_id.type, 'INT32');
    assert.equal(el.score.type, 'DOUBLE');
    assert.equal(el.n_steps.type, 'INT32');
    assert.equal(el.values.converted_type, 'LIST');
    assert.equal(el.list.repetition_type, 'REPEATED');
    assert.equal(el.element.type, 'FLOAT');
    assert.equal(el.sample_index.type, 'INT32');
    assert.equal(el.sample_index.repetition_type, 'OPTIONAL');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: pandas/pyarrow read a shard as is (skipped without pyarrow)', async (t) => {
  const py = process.env.ENTROPYLENS_PYTHON ?? 'python3';
  const probe = spawnSync(py, ['-c', 'import pyarrow, pandas'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip(`${py} has no pyarrow/pandas (set ENTROPYLENS_PYTHON to one that has)`);
    return;
  }
  const dir = await tmp();
  try {
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', labelColumns });
    await w.appendShard(rowsFor([1, 2, 3], 'shannon'));
    await w.appendShard(rowsFor([4], 'shannon'));
    const script = [
      'import sys, json, glob, pandas as pd, pyarrow.parquet as pq',
      'files = sorted(glob.glob(sys.argv[1] + "/part-*.parquet"))',
      'df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)',
      'sch = pq.read_schema(files[0])',
      'try:',
      '    import duckdb',
      '    duck = duckdb.sql(f"select count(*), sum(len(\\"values\\")) from read_parquet(\'{sys.argv[1]}/part-*.parquet\')").fetchall()[0]',
      '    duck = [int(duck[0]), int(duck[1])]',
      'except ImportError:',
      '    duck = None',
      'print(json.dumps({"n": len(df), "values1": [float(v) for v in df["values"][0]], "correct": [bool(v) for v in df["correct"]], "duck": duck,',
      '  "types": {f.name: str(f.type) for f in sch}, "subject0": None if pd.isna(df["subject"][2]) else str(df["subject"][2]), "story": int(df["story_id"][3])}))',
    ].join('\n');
    const out = spawnSync(py, ['-c', script, dir], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const got = JSON.parse(out.stdout) as { duck: number[] | null; n: number; values1: number[]; correct: boolean[]; types: Record<string, string>; subject0: string | null; story: number };
    assert.equal(got.n, 4);
    assert.deepEqual(got.values1, Array.from(Float32Array.from([1, 1.1, 1.2, 1.3, 1.4, 1.5])));
    assert.deepEqual(got.correct, [false, true, false, true]);
    assert.equal(got.subject0, null);
    assert.equal(got.story, 4);
    assert.equal(got.types.values, 'list<element: float not null>');
    assert.equal(got.types.sample_id, 'string');
    assert.equal(got.types.correct, 'bool');
    assert.equal(got.types.story_id, 'int32');
    if (got.duck) assert.deepEqual(got.duck, [4, 24], 'DuckDB reads all shards');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
