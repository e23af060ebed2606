/**
 * --quantize int8 end to end on the demo model (a trained model): the cache holds int8 blocks in
 * place of the float32 linear weights, the graph multiplies with MatMulNBits, the entropies stay
 * close to the exact path's, and a run records the quantization (resuming without it is refused).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { generateStories } from '../../src/datasets/demo-stories.js';
import type { ProfileResult } from '../../src/lens/model.js';
import { readResults } from '../../src/store/index.js';
import { assetPath } from '../../src/util/package.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { profileAll } from '../helpers/profile-all.js';

const root = tempDir('el-quant-');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const cache = path.join(root, 'cache');
const demo = assetPath('demo-model');
const prompts = generateStories(3, 8).map((s) => s.text.split(' ').slice(0, 10).join(' '));

function profile(quantize?: 'int8'): Promise<ProfileResult[]> {
  return profileAll(demo, { cacheDir: cache, threads: 1, quantize }, prompts, { maxNewTokens: 4 });
}

it('int8 weights: blocks in the cache, MatMulNBits in the graph, entropies within a few hundredths of a nat', async () => {
  const exact = await profile();
  const q = await profile('int8');
  const dirs = fs.readdirSync(cache).filter((d) => fs.statSync(path.join(cache, d)).isDirectory());
  assert.equal(dirs.length, 2, 'exact and int8 weights are cached apart');
  const index = dirs.map((d) => JSON.parse(fs.readFileSync(path.join(cache, d, 'weights.json'), 'utf8')) as { entries: { name: string; dtype?: string }[] });
  const int8 = index.find((i) => i.entries.some((e) => e.name.endsWith('.q8')))!;
  assert.ok(int8, 'an int8 cache');
  assert.ok(!int8.entries.some((e) => /^layers\.\d+\.(attn|mlp)\.\w+\.weight$/.test(e.name)), 'no float32 copy of a linear weight');
  assert.ok(int8.entries.some((e) => e.name === 'embed.weight'), 'the embedding rows the runtime reads stay');
  const dir = dirs.find((d) => fs.readFileSync(path.join(cache, d, 'weights.json'), 'utf8').includes('.q8'))!;
  const graph = fs.readdirSync(path.join(cache, dir)).find((f) => f.startsWith('graph-'))!;
  assert.ok(fs.readFileSync(path.join(cache, dir, graph)).includes(Buffer.from('MatMulNBits')));
  let sum = 0;
  let n = 0;
  let same = 0;
  exact.forEach((r, i) => {
    r.metrics.shannon[0].forEach((v, l) => {
      sum += Math.abs(v - q[i].metrics.shannon[0][l]);
      n++;
    });
    if (r.generatedIds[0] === q[i].generatedIds[0]) same++;
  });
  // measured here: 0.007 nats mean over 24 prompts × 8 steps; a wrong block layout gives whole nats
  assert.ok(sum / n < 0.03, `mean |ΔH| at step 0: ${(sum / n).toFixed(4)}`);
  assert.ok(sum / n > 0, 'int8 is not the exact path');
  assert.ok(same >= prompts.length - 1, `first tokens equal for ${same} of ${prompts.length}`);
});

it('run records --quantize int8; resuming the folder without it is refused by name', async () => {
  const stories = path.join(root, 'stories.jsonl');
  fs.writeFileSync(stories, generateStories(5, 2).map((s) => JSON.stringify({ text: s.text })).join('\n') + '\n');
  const out = path.join(root, 'run');
  const args = ['run', 'tinystories', '--model', demo, '--dataset', stories, '--n-stories', '2', '--max-new-tokens', '2', '--no-figures', '--out', out, '--cache-dir', cache];
  const r = runCli([...args, '--quantize', 'int8']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await readResults(out)).manifest.options.quantize, 'int8');
  const again = runCli(args);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /--quantize/);
  const bad = runCli([...args, '--quantize', 'int4', '--out', path.join(root, 'other')]);
  assert.match(bad.stderr, /--quantize 'int4': the only quantization is int8/);
});
