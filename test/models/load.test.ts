/**
 * One loading sequence (models/load.ts) behind LensModel.load and inspectModel: the same refusals
 * with the same words, and the unembedding's rows as the lens' V when they differ from config.json.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { LensModel, type ProfileResult } from '../../src/lens/model.js';
import { inspectModel } from '../../src/models/inspect.js';
import { openModel } from '../../src/models/load.js';
import { writeSafetensors } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-load-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The message both entry points fail with (they must agree). */
async function sameRefusal(dir: string): Promise<string> {
  let inspectMessage = '';
  assert.throws(() => inspectModel(dir), (e: Error) => ((inspectMessage = e.message), true));
  await assert.rejects(LensModel.load(dir, { cacheDir: path.join(tmp, 'cache') }), (e: Error) => {
    assert.equal(e.message, inspectMessage);
    return true;
  });
  return inspectMessage;
}

it('an unsupported or missing model_type: the same error from load and inspect, naming the file', async () => {
  const dir = path.join(tmp, 'mamba');
  fs.mkdirSync(dir);
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(config, JSON.stringify({ model_type: 'mamba', architectures: ['MambaForCausalLM'] }));
  writeSafetensors(path.join(dir, 'model.safetensors'), { 'backbone.embeddings.weight': { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] } });
  const unsupported = await sameRefusal(dir);
  assert.ok(unsupported.startsWith(`${config}: model_type 'mamba' (MambaForCausalLM) is not supported by entropylens; supported: `), unsupported);
  assert.match(unsupported, /\bllama\b.*see 'entropylens models'/);
  fs.writeFileSync(config, JSON.stringify({ architectures: ['MambaForCausalLM'] }));
  assert.match(await sameRefusal(dir), new RegExp(`^${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has no 'model_type'`));
});

it('a missing tensor: the same error from load and inspect, naming the tensor', async () => {
  const dir = writeTinyLlama(path.join(tmp, 'broken'), { layers: 2 });
  // drop one layer's k_proj by rewriting the file without it
  const buf = fs.readFileSync(path.join(dir, 'model.safetensors'));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const tensors: Parameters<typeof writeSafetensors>[1] = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || name === 'model.layers.1.self_attn.k_proj.weight') continue;
    const bytes = buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    tensors[name] = { dtype: 'F32', shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
  }
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  assert.match(await sameRefusal(dir), /tensor 'layers\.1\.self_attn\.k_proj\.weight' not found/);
});

it("the spec's vocabulary is the unembedding's rows (padded beyond config.json's vocab_size), in load and inspect alike", async () => {
  const dir = writeTinyLlama(path.join(tmp, 'padded'), { layers: 1 });
  const cfgFile = path.join(dir, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { vocab_size: number };
  const rows = cfg.vocab_size;
  cfg.vocab_size = rows - 7; // the embedding keeps `rows` rows, as padded checkpoints do
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  const opened = openModel(dir);
  assert.equal(opened.configVocab, rows - 7);
  assert.equal(opened.spec.vocabSize, rows);
  const report = inspectModel(dir);
  assert.equal(report.configVocab, rows - 7);
  assert.equal(report.unembedRows, rows);
  const model = await LensModel.load(dir, { cacheDir: path.join(tmp, 'cache') });
  try {
    assert.equal(model.spec.vocabSize, rows);
    let r: ProfileResult | undefined;
    for await (const x of model.profile([{ ids: [1, 2, 3] }], { maxNewTokens: 1, topK: rows })) r = x;
    assert.equal(r!.topk!.ids[0][0].length, rows, 'top-k over every unembedding row');
  } finally {
    await model.close();
  }
});
