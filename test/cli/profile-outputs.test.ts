/**
 * Getting profile results out: --out writes a results dataset (read back by the store, resumed with
 * the same options), --npz writes arrays that numpy.load reads with the same numbers as --json.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { readResults } from '../../src/store/index.js';
import { python } from '../helpers/python.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

const root = tempDir('el-pout-');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const model = writeTinyLlama(path.join(root, 'm'), { layers: 3, seed: 2 });
const cache = path.join(root, 'cache');
const prompts = path.join(root, 'prompts.txt');
fs.writeFileSync(prompts, ['Once upon a time', 'The little dragon flew over the hills', 'A cat'].join('\n'));
const base = ['profile', model, '--prompts-file', prompts, '--max-new-tokens', '4', '--metrics', 'shannon,renyi:2', '--cache-dir', cache];


it('--out: a results dataset with one row per prompt and metric, equal to --json; resumed, not repeated', async () => {
  const out = path.join(root, 'ds');
  const r = runCli([...base, '--json', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const data = await readResults(out);
  assert.equal(data.manifest.experiment, 'profile');
  assert.equal(data.rows.length, 6);
  for (const row of data.rows) {
    const res = doc.results[row.labels.prompt_index as number];
    assert.equal(row.prompt, res.prompt);
    assert.equal(row.completion, res.completion);
    assert.deepEqual(Array.from(row.values), res.metrics[row.metric].flat().map(Math.fround));
  }
  const again = runCli([...base, '--out', out]);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /^prompt /m, 'every prompt was on disk already');
  assert.equal((await readResults(out)).rows.length, 6);
  const other = runCli([...base, '--out', out, '--max-new-tokens', '2']);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /--max-new-tokens: 4 on disk vs 2 now/);
});

it('--out datasets read in pandas (skipped without a Parquet engine)', async (t) => {
  const py = python('pandas, pyarrow') ?? python('pandas, fastparquet');
  if (!py) return t.skip('no Python with pandas and a Parquet engine (pyarrow or fastparquet); Debian has neither engine packaged');
  const out = path.join(root, 'ds-pandas');
  assert.equal(runCli([...base, '--out', out]).code, 0);
  const r = spawnSync(py, ['-c', 'import sys, glob, pandas as pd; df = pd.concat([pd.read_parquet(f) for f in glob.glob(sys.argv[1] + "/part-*.parquet")]); print(len(df), sorted(df.metric.unique()))', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "6 ['renyi:2', 'shannon']");
});

it('--npz: numpy.load reads every array with the --json numbers', (t) => {
  const py = python('numpy');
  if (!py) return t.skip('no Python with numpy (apt-get install python3-numpy)');
  const file = path.join(root, 'out.npz');
  const r = runCli([...base, '--json', '--npz', file, '--windows', '2']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const script = [
    'import sys, json, numpy as np',
    'd = np.load(sys.argv[1])',
    'print(json.dumps({k: {"shape": list(d[k].shape), "dtype": str(d[k].dtype), "values": d[k].tolist()} for k in d.files}))',
  ].join('\n');
  const py2 = spawnSync(py, ['-c', script, file], { encoding: 'utf8' });
  assert.equal(py2.status, 0, py2.stderr);
  const a = JSON.parse(py2.stdout) as Record<string, { shape: number[]; dtype: string; values: unknown }>;
  assert.deepEqual(Object.keys(a).sort(), ['argmax', 'generated_ids', 'input_ids', 'n_steps', 'prompt_lengths', 'renyi:2', 'shannon', 'windows/renyi:2', 'windows/shannon']);
  assert.deepEqual(a.shannon.shape, [3, 4, 3]);
  assert.equal(a.shannon.dtype, 'float32');
  assert.deepEqual(a.shannon.values, doc.results.map((x: { metrics: { shannon: number[][] } }) => x.metrics.shannon.map((row) => row.map(Math.fround))));
  assert.deepEqual(a['windows/renyi:2'].values, doc.results.map((x: { windows: Record<string, number[][]> }) => x.windows['renyi:2'].map((row) => row.map(Math.fround))));
  assert.deepEqual(a.argmax.values, doc.results.map((x: { argmax: number[][] }) => x.argmax));
  assert.deepEqual(a.generated_ids.values, doc.results.map((x: { generated_ids: number[] }) => x.generated_ids));
  const lengths = doc.results.map((x: { input_ids: number[] }) => x.input_ids.length);
  assert.deepEqual(a.prompt_lengths.values, lengths);
  const S = Math.max(...lengths);
  assert.deepEqual(a.input_ids.values, doc.results.map((x: { input_ids: number[] }) => [...x.input_ids, ...new Array(S - x.input_ids.length).fill(-1)]));
});
