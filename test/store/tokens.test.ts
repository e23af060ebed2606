/** The token columns of a results dataset (generated ids, top-k ids and probabilities): written per row, read with the rows or per part file, kept by a merge, refused when inconsistent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsWriter, mergeDataset, readResults, readShardTokens, shardFiles, type ResultRow, type ResultRowInput } from '../../src/store/index.js';

const K = 3;

function row(i: number, metric = 'shannon'): ResultRowInput {
  const n = 2 * 4 * K; // steps × layers × k
  return {
    sample_id: `s${i}`,
    metric,
    n_steps: 2,
    n_layers: 4,
    values: Float32Array.from({ length: 8 }, (_, j) => i + j / 8),
    sample_index: i,
    tokens: {
      generated_ids: [7 * i, 7 * i + 1],
      topk_ids: Int32Array.from({ length: n }, (_, j) => 1000 * i + j),
      topk_probs: Float32Array.from({ length: n }, (_, j) => 1 / (j + 2)),
    },
  };
}

function same(got: { generatedIds: Int32Array; k: number; topkIds: Int32Array; topkProbs: Float32Array } | undefined, want: ResultRowInput): void {
  assert.ok(got, 'tokens read');
  assert.equal(got.k, K);
  assert.deepEqual(Array.from(got.generatedIds), Array.from(want.tokens!.generated_ids));
  assert.deepEqual(Array.from(got.topkIds), Array.from(want.tokens!.topk_ids));
  assert.deepEqual(Array.from(got.topkProbs), Array.from(Float32Array.from(want.tokens!.topk_probs)));
}

async function tokensOf(path: string, r: ResultRow): Promise<ResultRow['tokens']> {
  return (await readShardTokens(path, r.source!.file))?.[r.source!.row];
}

test('store: token columns round-trip, are skipped unless asked for, and read per part file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'entropylens-tokens-'));
  try {
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', topK: K });
    await w.appendShard([row(0), row(1)]);
    await w.appendShard([row(2), row(2, 'renyi:0.5')]);
    const [first, second] = await shardFiles(dir);
    const plain = await readResults(dir);
    assert.equal(plain.manifest.topK, K);
    assert.ok(plain.rows.every((r) => r.tokens === undefined), 'token columns are not read by default');
    const full = await readResults(dir, { tokens: true });
    assert.equal(full.rows.length, 4);
    for (const r of full.rows) same(r.tokens, row(Number(r.sample_id.slice(1))));
    // one row's tokens read from its part file alone equal the ones read with all rows
    const r2 = plain.rows.find((r) => r.sample_id === 's2' && r.metric === 'renyi:0.5')!;
    assert.deepEqual(r2.source, { file: second, row: 1 });
    same(await tokensOf(dir, r2), row(2));
    // only part files of the folder itself
    await assert.rejects(readShardTokens(dir, '../manifest.json'), /not a part file name/);
    // a lone part file works too
    const lone = await readResults(join(dir, first));
    assert.equal(lone.manifest.topK, K);
    same(await tokensOf(join(dir, first), lone.rows[1]), row(1));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: two writers of one dataset with top-k, and a merge, keep every token column', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'entropylens-tokens-'));
  try {
    const a = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', topK: K });
    const b = await ResultsWriter.open(dir, { model: 'm', experiment: 'e' }); // resumes with the dataset's K
    await a.appendShard([row(0), row(1)]);
    await b.appendShard([row(1), row(2)]); // s1 twice: one row kept
    const before = await readResults(dir, { tokens: true });
    assert.equal(before.duplicateRows, 1);
    const m = await mergeDataset(dir);
    assert.equal(m.partsAfter, 1);
    const after = await readResults(dir, { tokens: true });
    assert.equal(after.duplicateRows, 0);
    assert.deepEqual(after.rows.map((r) => r.sample_id), ['s0', 's1', 's2']);
    for (const r of after.rows) same(r.tokens, row(Number(r.sample_id.slice(1))));
    same(await tokensOf(dir, after.rows[2]), row(2));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("store: token rows must match the dataset's K, and K is fixed for the dataset", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'entropylens-tokens-'));
  try {
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', topK: K });
    const bad = row(0);
    bad.tokens = { ...bad.tokens!, topk_ids: [1, 2], topk_probs: [0.5, 0.5] };
    await assert.rejects(w.appendShard([bad]), /needs 2 generated ids and top-k ids and probs of n_steps × n_layers × 3 = 24 entries/);
    const negative = row(0);
    negative.tokens = { ...negative.tokens!, generated_ids: [-1, 2] };
    await assert.rejects(w.appendShard([negative]), /token ids must be non-negative/);
    const none = row(0);
    delete none.tokens;
    await assert.rejects(w.appendShard([none]), /stores top-3 tokens/);
    await assert.rejects(ResultsWriter.open(dir, { model: 'm', experiment: 'e', topK: 5 }), /stores top-3 tokens per step and layer, this run asks for top-5/);
    await assert.rejects(ResultsWriter.open(dir, { model: 'm', experiment: 'e', topK: 0 }), /this run asks for top-0/);
    await assert.rejects(ResultsWriter.open(join(dir, 'x'), { model: 'm', experiment: 'e', topK: 1.5 }), /--top-k must be an integer/);
    // a manifest whose topK is not a count is refused by name
    const manifest = join(dir, 'manifest.json');
    const text = await readFile(manifest, 'utf8');
    await writeFile(manifest, text.replace('"topK": 3', '"topK": "three"'));
    await assert.rejects(readResults(dir), /"topK" is not an integer/);
    await writeFile(manifest, text);

    const plainDir = join(dir, 'plain');
    const p = await ResultsWriter.open(plainDir, { model: 'm', experiment: 'e' });
    await assert.rejects(p.appendShard([row(1)]), /opened without topK/);
    // a dataset without token columns: readShardTokens says there are none
    const q = row(1);
    delete q.tokens;
    await p.appendShard([q]);
    const back = await readResults(plainDir, { tokens: true });
    assert.equal(back.manifest.topK, undefined);
    assert.equal(back.rows[0].tokens, undefined);
    assert.equal(await readShardTokens(plainDir, back.rows[0].source!.file), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: pandas/pyarrow read the token columns as lists (skipped without pyarrow)', async (t) => {
  const py = process.env.ENTROPYLENS_PYTHON ?? 'python3';
  if (spawnSync(py, ['-c', 'import pyarrow, pandas'], { encoding: 'utf8' }).status !== 0) {
    t.skip(`${py} has no pyarrow/pandas (set ENTROPYLENS_PYTHON to one that has)`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'entropylens-tokens-'));
  try {
    const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'e', topK: K });
    await w.appendShard([row(0), row(1)]);
    const [file] = await shardFiles(dir);
    const script =
      'import sys, json, pandas as pd\ndf = pd.read_parquet(sys.argv[1])\n' +
      'print(json.dumps({"gen": [int(v) for v in df["generated_ids"][1]], "ids": [int(v) for v in df["topk_ids"][1]], "probs": [float(v) for v in df["topk_probs"][1]]}))';
    const out = spawnSync(py, ['-c', script, join(dir, file)], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const got = JSON.parse(out.stdout) as { gen: number[]; ids: number[]; probs: number[] };
    assert.deepEqual(got.gen, [7, 8]);
    assert.deepEqual(got.ids, Array.from(row(1).tokens!.topk_ids));
    assert.deepEqual(got.probs, Array.from(Float32Array.from(row(1).tokens!.topk_probs)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
