/**
 * The reference's re-tokenising generation loop (--reference-quirks), on its own: each step
 * re-tokenizes prompt + decoded completion (BOS prepended) and runs the whole sequence. Checked
 * against a loop written here from the definition, with ids fed verbatim. (The other quirks —
 * accumulating scramble, extraction over prompt + completion, the phi-3 space — are tested in
 * test/datasets; the phi-3 space is also checked in the loop here.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { runLoop, type ExperimentSample } from '../../src/experiments/runner.js';
import type { ResultRowInput } from '../../src/store/schema.js';
import { LensModel } from '../../src/lens/model.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

let root: string;
let model: LensModel;
before(async () => {
  root = tempDir('el-quirks-');
  model = await LensModel.load(writeTinyLlama(path.join(root, 'm'), { layers: 2, seed: 11 }), { cacheDir: path.join(root, 'cache') });
});
after(async () => {
  await model.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const samples: ExperimentSample[] = ['Once upon a time', 'Tom had a red ball.\n\nHow many words are in the story?\n\n', 'The cat sat'].map((prompt, i) => ({ sampleId: `s${i}`, prompt, stream: i, index: i, labels: {} }));

async function loop(retokenize: boolean, modelName = 'tiny'): Promise<ResultRowInput[]> {
  const rows: ResultRowInput[] = [];
  await runLoop(model, samples, { append: async (r) => void rows.push(...r), has: () => false, refresh: async () => undefined }, {
    experiment: 'test',
    modelName,
    profile: { maxNewTokens: 4, temperature: 0, seed: 0, batchSize: 2, metrics: ['shannon'] },
    metricNames: ['shannon'],
    updateSteps: 10,
    retokenize,
  });
  return rows;
}

it('re-tokenising loop equals the definition, step by step', async () => {
  const rows = await loop(true);
  const tok = model.tokenizer!;
  for (const s of samples) {
    let text = s.prompt;
    const profile: number[][] = [];
    for (let t = 0; t < 4; t++) {
      const ids = [tok.bosId!, ...tok.encode(text)];
      for await (const r of model.profile([{ ids }], { maxNewTokens: 1 })) {
        profile.push(r.metrics.shannon[0]);
        text += tok.decode([r.generatedIds[0]]);
      }
    }
    const row = rows.find((r) => r.sample_id === s.sampleId)!;
    assert.equal(row.completion, text.slice(s.prompt.length));
    assert.equal(row.n_steps, 4);
    for (let t = 0; t < 4; t++) for (let l = 0; l < 2; l++) { const drift = Math.abs(row.values[t * 2 + l] - profile[t][l]); assert.ok(drift < 1e-5, `${s.sampleId} step ${t} layer ${l}: drift ${drift}`); }
  }
});

it('step 0 is the same in both loops; the intended loop appends ids', async () => {
  const quirk = await loop(true);
  const intended = await loop(false);
  for (const s of samples) {
    const a = quirk.find((r) => r.sample_id === s.sampleId)!;
    const b = intended.find((r) => r.sample_id === s.sampleId)!;
    assert.ok(Math.abs(a.values[0] - b.values[0]) < 1e-5 && Math.abs(a.values[1] - b.values[1]) < 1e-5);
  }
});

it('the phi-3 space: the reference inserts a space before every decoded token for phi-3 only', async () => {
  const plain = await loop(true, 'tiny');
  const phi3 = await loop(true, 'microsoft/Phi-3-mini-4k-instruct');
  const p0 = plain.find((r) => r.sample_id === 's0')!;
  const q0 = phi3.find((r) => r.sample_id === 's0')!;
  assert.ok(q0.completion?.startsWith(' '));
  assert.notEqual(q0.completion, p0.completion);
});
