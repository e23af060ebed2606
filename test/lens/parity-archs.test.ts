/**
 * Parity with Hugging Face transformers for the architectures of issue 4 (gemma, gemma2, phi, phi3,
 * opt, bloom, gpt_neo, stablelm, falcon): every fixture case of these model types, batch-1 and one
 * left-padded batch (prefill at step 0, KV-cached decode after): greedy ids and lens argmax exact,
 * Shannon, Rényi 0.5/2/5, the extras metrics and the final top-5 log-probs within 1e-4 nats, and
 * the two block interventions of extras.json.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMetric } from '../../src/graph/metrics.js';
import { LensModel, type ProfileResult } from '../../src/lens/model.js';
import { extras, golden, parityCases, PARITY_DIR } from '../helpers/fixtures.js';

const TOL = 1e-4;
const NEW = 6;
const ARCHS = ['gemma', 'gemma2', 'phi', 'phi3', 'opt', 'bloom', 'gpt_neo', 'stablelm', 'falcon'];

function close(what: string, got: number[][], want: number[][]): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} steps, expected ${want.length}`);
  for (let t = 0; t < want.length; t++) {
    assert.equal(got[t].length, want[t].length, `${what}: step ${t} has ${got[t].length} layers, expected ${want[t].length}`);
    for (let l = 0; l < want[t].length; l++) {
      const drift = Math.abs(got[t][l] - want[t][l]);
      assert.ok(drift <= TOL, `${what}: step ${t}, layer ${l}: ${got[t][l]} vs ${want[t][l]} (drift ${drift.toExponential(2)})`);
    }
  }
}

async function collect(gen: AsyncGenerator<ProfileResult>): Promise<ProfileResult[]> {
  const out: ProfileResult[] = [];
  for await (const r of gen) out.push(r);
  return out.sort((a, b) => a.index - b.index);
}

const cases = parityCases().filter((c) => ARCHS.includes(c.architecture));

let cacheDir: string;
before(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'el-parity-archs-'));
});
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

it('has a fixture for every architecture it tests', () => {
  for (const a of ARCHS) assert.ok(cases.some((c) => c.architecture === a), `no hf-parity case for ${a}`);
  assert.equal(cases.filter((c) => c.architecture === 'falcon').length, 3, 'the three falcon layouts');
});

for (const c of cases) {
  describe(`hf-parity ${c.case}`, () => {
    let model: LensModel;
    const g = golden(c.case);
    const x = extras(c.case);
    const prompts = g.prompts.map((p) => ({ ids: p.input_ids }));
    const extraNames = Object.keys(x.prompts[0].metrics);
    const metrics = ['shannon', 'renyi:0.5', 'renyi:2', 'renyi:5', ...extraNames];

    before(async () => {
      model = await LensModel.load(path.join(PARITY_DIR, c.case), { cacheDir, threads: 1 });
    });
    after(async () => model.close());

    for (const batchSize of [1, g.prompts.length]) {
      const mode = batchSize === 1 ? 'single' : `batch of ${batchSize}, left-padded`;
      it(`golden and extras metrics (${mode})`, async () => {
        const rs = await collect(model.profile(prompts, { maxNewTokens: NEW, metrics, topK: 5, anchorIds: x.anchor_ids, batchSize }));
        assert.equal(rs.length, g.prompts.length);
        for (const r of rs) {
          const gp = g.prompts[r.index];
          const xp = x.prompts[r.index];
          const tag = `${c.case} prompt ${r.index} (${mode})`;
          assert.deepEqual(r.generatedIds, gp.generated_ids, `${tag}: greedy ids`);
          assert.deepEqual(r.argmax, gp.lens_argmax, `${tag}: lens argmax`);
          close(`${tag} shannon`, r.metrics.shannon, gp.entropy);
          for (const a of ['0.5', '2', '5']) close(`${tag} renyi:${a}`, r.metrics[`renyi:${a}`], gp.renyi[`${a}.0`] ?? gp.renyi[a]);
          for (const n of extraNames) close(`${tag} ${n}`, r.metrics[parseMetric(n).name], xp.metrics[n]);
          const L = c.num_layers;
          assert.deepEqual(r.topk!.ids.map((s) => s[L - 1]), gp.final_top5_ids, `${tag}: final top-5 ids`);
          close(`${tag} final top-5 log-probs`, r.topk!.probs.map((s) => s[L - 1].map(Math.log)), gp.final_top5_logprobs);
        }
      });
    }

    const interventions = {
      'scale:1:0.5': [{ kind: 'scale' as const, layer: 1, factor: 0.5 }],
      'skip:0': [{ kind: 'skip' as const, layer: 0 }],
    };
    for (const [key, ivs] of Object.entries(interventions)) {
      it(`intervention ${key} (single and batched)`, async () => {
        for (const batchSize of [1, 2]) {
          const rs = await collect(model.profile(prompts, { maxNewTokens: NEW, interventions: ivs, batchSize }));
          for (const r of rs) {
            const want = x.prompts[r.index].interventions[key];
            const tag = `${c.case} prompt ${r.index} ${key} batch ${batchSize}`;
            assert.deepEqual(r.generatedIds, want.generated_ids, `${tag}: greedy ids`);
            close(`${tag} shannon`, r.metrics.shannon, want.shannon);
          }
        }
      });
    }
  });
}
