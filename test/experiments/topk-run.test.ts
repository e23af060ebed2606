/**
 * `run … --top-k K` stores each sample's generated ids and the lens' top-k: the same ids and
 * probabilities as `profile --json --top-k K` on the same prompt (both at batch size 1, greedy),
 * and the dataset is complete when the run finishes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { generateStories } from '../../src/datasets/demo-stories.js';
import { datasetStatus, readResults } from '../../src/store/index.js';
import { assetPath } from '../../src/util/package.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';

let root: string;
before(() => {
  root = tempDir('el-topk-run-');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

it('run tinystories --top-k 4 stores generated ids and top-k equal to profile --json --top-k 4', async () => {
  const model = assetPath('demo-model');
  const stories = path.join(root, 'stories.jsonl');
  fs.writeFileSync(stories, generateStories(5, 1).map((s) => JSON.stringify({ text: s.text })).join('\n') + '\n');
  const out = path.join(root, 'ts');
  const cache = path.join(root, 'cache');
  const common = ['--max-new-tokens', '3', '--temperature', '0', '--batch-size', '1', '--cache-dir', cache];
  const r = runCli(['run', 'tinystories', '--model', model, '--dataset', stories, '--n-stories', '1', '--limit', '3', '--top-k', '4', '--out', out, '--no-figures', ...common]);
  assert.equal(r.code, 0, r.stderr);
  const data = await readResults(out, { tokens: true });
  assert.equal(data.manifest.topK, 4);
  assert.equal(data.manifest.options.topK, 4);
  assert.ok((await datasetStatus(out)).complete, 'a finished run is complete');
  assert.equal(data.rows.length, 3);

  const prompts = path.join(root, 'prompts.jsonl');
  fs.writeFileSync(prompts, data.rows.map((x) => JSON.stringify({ prompt: x.prompt })).join('\n') + '\n');
  const p = runCli(['profile', model, '--prompts-file', prompts, '--top-k', '4', '--json', ...common]);
  assert.equal(p.code, 0, p.stderr);
  const doc = JSON.parse(p.stdout) as { results: { generated_ids: number[]; metrics: { shannon: number[][] }; topk: { ids: number[][][]; probs: number[][][] } }[] };
  data.rows.forEach((row, i) => {
    const want = doc.results[i];
    const t = row.tokens!;
    assert.equal(t.k, 4);
    assert.deepEqual(Array.from(t.generatedIds), want.generated_ids, `${row.sample_id}: generated ids`);
    assert.deepEqual(Array.from(t.topkIds), want.topk.ids.flat(2), `${row.sample_id}: top-k ids`);
    assert.deepEqual(Array.from(t.topkProbs), Array.from(Float32Array.from(want.topk.probs.flat(2))), `${row.sample_id}: top-k probabilities (float32)`);
    assert.deepEqual(Array.from(row.values), Array.from(Float32Array.from(want.metrics.shannon.flat())), `${row.sample_id}: values`);
  });
});
