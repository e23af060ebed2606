/**
 * The lens graphs kept in the cache folder: one file per lens configuration (and graph code),
 * reused by later loads, rebuilt when missing or empty; and results that do not depend on how the
 * prefill is chunked or the lens head grouped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { LensModel, type ProfileResult } from '../../src/lens/model.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

let tmp: string;
let modelDir: string;
let cacheDir: string;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-graph-cache-'));
  modelDir = writeTinyLlama(path.join(tmp, 'model'), { layers: 4, seed: 3 });
  cacheDir = path.join(tmp, 'cache');
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function graphFiles(): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of fs.readdirSync(cacheDir)) {
    if (!fs.statSync(path.join(cacheDir, d)).isDirectory()) continue; // content-hashes.json
    for (const f of fs.readdirSync(path.join(cacheDir, d))) if (f.startsWith('graph-')) out.set(path.join(d, f), fs.statSync(path.join(cacheDir, d, f)).mtimeMs);
  }
  return out;
}

async function collect(it: AsyncIterable<ProfileResult>): Promise<ProfileResult[]> {
  const out: ProfileResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

it('a second load reuses the cached graph; another configuration adds one; an empty file is rebuilt', async () => {
  const a = await LensModel.load(modelDir, { cacheDir });
  await a.close();
  const first = graphFiles();
  assert.equal(first.size, 1);
  const b = await LensModel.load(modelDir, { cacheDir });
  assert.deepEqual(graphFiles(), first, 'the same configuration reuses its file untouched');
  await b.prepare({ metrics: ['shannon', 'renyi:2'] });
  await b.close();
  assert.equal(graphFiles().size, 2, 'other metrics, another graph');
  const [name] = first.keys();
  fs.writeFileSync(path.join(cacheDir, name), '');
  const c = await LensModel.load(modelDir, { cacheDir });
  await c.close();
  assert.ok(fs.statSync(path.join(cacheDir, name)).size > 0, 'an empty graph file is rebuilt');
});

it('results do not depend on prefill chunking or lens layer groups', async () => {
  const model = await LensModel.load(modelDir, { cacheDir });
  const prompts = ['Once upon a time there was a little fox who lived near the river.', 'Hi', 'The cat sat on the mat, and then it slept for a while in the sun.'];
  const opts = { maxNewTokens: 5, metrics: ['shannon', 'renyi:0.5', 'kl:next', 'kl:final'], topK: 3, batchSize: 3 };
  const ref = await collect(model.profile(prompts, { ...opts, prefillTokens: 4096, lensGroups: 1 }));
  for (const variant of [
    { prefillTokens: 5, lensGroups: 1 },
    { prefillTokens: 1, lensGroups: 4 },
    { prefillTokens: 20, lensGroups: 3 },
  ]) {
    const rs = await collect(model.profile(prompts, { ...opts, ...variant }));
    for (const [i, r] of rs.entries()) {
      const tag = `prompt ${i} ${JSON.stringify(variant)}`;
      assert.deepEqual(r.generatedIds, ref[i].generatedIds, `${tag}: ids`);
      assert.deepEqual(r.argmax, ref[i].argmax, `${tag}: argmax`);
      for (const m of opts.metrics) {
        r.metrics[m].forEach((row, t) => row.forEach((v, l) => assert.ok(Math.abs(v - ref[i].metrics[m][t][l]) < 1e-5, `${tag} ${m} step ${t} layer ${l}: ${v} vs ${ref[i].metrics[m][t][l]}`)));
      }
      assert.deepEqual(r.topk!.ids, ref[i].topk!.ids, `${tag}: top-k ids`);
    }
  }
  await model.close();
});

it('two profile() calls with different graphs can interleave; the replaced session outlives its last user', async () => {
  const model = await LensModel.load(modelDir, { cacheDir });
  const prompts = ['Once upon a time', 'The dog ran home', 'A small red bird sang'];
  const optsA = { maxNewTokens: 3, batchSize: 1 };
  const optsB = { maxNewTokens: 3, batchSize: 2, lensGroups: 2, metrics: ['shannon', 'renyi:2'] };
  const wantA = await collect(model.profile(prompts, optsA));
  const wantB = await collect(model.profile(prompts, optsB));
  const a = model.profile(prompts, optsA);
  const gotA = [(await a.next()).value as ProfileResult];
  const gotB = await collect(model.profile(prompts, optsB)); // switches graphs while `a` is mid-way
  for await (const r of a) gotA.push(r);
  assert.deepEqual(gotA.map((r) => r.generatedIds), wantA.map((r) => r.generatedIds));
  assert.deepEqual(gotA.map((r) => r.metrics.shannon), wantA.map((r) => r.metrics.shannon));
  assert.deepEqual(gotB.map((r) => r.metrics['renyi:2']), wantB.map((r) => r.metrics['renyi:2']));
  await model.close();
});

it('prefillTokens must be a positive integer', async () => {
  const model = await LensModel.load(modelDir, { cacheDir });
  for (const bad of [0, 2.5, Number.NaN]) {
    await assert.rejects(collect(model.profile(['Hi'], { prefillTokens: bad })), /prefillTokens must be a positive integer/);
  }
  await model.close();
});

it('the lens groups run one after another: each group\'s lens logits wait for every result of the group before it; one unembedding node', async () => {
  const { onnx } = (await import('onnx-proto')).default;
  const dir = path.join(tmp, 'order-cache');
  const opts = { metrics: ['shannon', 'renyi:2', 'kl:next', 'kl:final'], topK: 3, lensGroups: 3 };
  const model = await LensModel.load(modelDir, { cacheDir: dir, profile: opts });
  await model.close();
  const files = fs
    .readdirSync(dir)
    .filter((d) => fs.statSync(path.join(dir, d)).isDirectory())
    .flatMap((d) => fs.readdirSync(path.join(dir, d)).filter((f) => f.startsWith('graph-')).map((f) => path.join(dir, d, f)));
  assert.equal(files.length, 1);
  const nodes = onnx.ModelProto.decode(fs.readFileSync(files[0])).graph!.node!;
  const producer = new Map<string, (typeof nodes)[number]>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const ancestors = (name: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [nodes.find((n) => n.name === name)!];
    assert.ok(stack[0], `node ${name}`);
    while (stack.length) {
      for (const i of stack.pop()!.input ?? []) {
        const p = producer.get(i);
        if (p && !seen.has(p.name!)) {
          seen.add(p.name!);
          stack.push(p);
        }
      }
    }
    return seen;
  };
  // the top group runs first (its last layer serves kl:final below); then groups 1 and 0
  for (const [group, previous] of [[1, 2], [0, 1]]) {
    const before = ancestors(`/lens/group${group}/logits/Slice`);
    const prev = nodes.filter((n) => n.name!.startsWith(`/lens/group${previous}/`) || (previous === 2 && n.name === '/lens/final_logits'));
    assert.ok(prev.length > 10);
    for (const n of prev) assert.ok(before.has(n.name!), `${n.name} (${n.opType}) runs before the lens logits of group ${group}`);
  }
  // ONNX Runtime packs a weight once per node that reads it: one node reads the unembedding
  const readers = nodes.filter((n) => n.input?.includes('embed.weight') || n.input?.includes('lm_head.weight')).map((n) => `${n.name} (${n.opType})`);
  assert.equal(readers.filter((r) => !r.includes('Gather')).length, 1, readers.join(', '));
});

it('exporting the weights leaves no copies of them in memory', async () => {
  // ~40 MB of float32 weights, exported (transposed) on this first load
  const big = writeTinyLlama(path.join(tmp, 'big'), { layers: 1, hidden: 1024, heads: 4, kvHeads: 2, seed: 5 });
  const model = await LensModel.load(big, { cacheDir: path.join(tmp, 'big-cache') });
  try {
    assert.ok(model.exportSeconds > 0, 'the weights were exported by this load');
    const mb = process.memoryUsage().arrayBuffers / 2 ** 20;
    assert.ok(mb < 8, `${mb.toFixed(1)} MB of array buffers still allocated after the load`);
  } finally {
    await model.close();
  }
});
