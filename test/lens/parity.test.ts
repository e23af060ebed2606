/**
 * Parity with Hugging Face transformers on every fixture case whose model_type is supported:
 * golden.json (Shannon, Rényi 0.5/2/5, lens argmax, greedy ids, final top-5 log-probs) and
 * extras.json (the full metric set and the two block interventions), batch-1 and one left-padded
 * batch, prefill (step 0) and KV-cached decode (steps 1…).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMetric } from '../../src/graph/metric-names.js';
import { LensModel, type ProfileResult } from '../../src/lens/model.js';
import { supportedModelTypes } from '../../src/models/registry.js';
import { extras, golden, parityCases, PARITY_DIR } from '../helpers/fixtures.js';

const TOL = 1e-4;
const NEW = 6;

function close(what: string, got: number[][], want: number[][]): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} steps, expected ${want.length}`);
  for (let t = 0; t < want.length; t++) {
    for (let l = 0; l < want[t].length; l++) {
      const drift = Math.abs(got[t][l] - want[t][l]);
      assert.ok(drift <= TOL, `${what}: step ${t}, layer ${l}: ${got[t][l]} vs ${want[t][l]} (drift ${drift.toExponential(2)})`);
    }
  }
}

async function collect(it: AsyncGenerator<ProfileResult>): Promise<ProfileResult[]> {
  const out: ProfileResult[] = [];
  for await (const r of it) out.push(r);
  return out.sort((a, b) => a.index - b.index);
}

const supported = new Set(supportedModelTypes());
const cases = parityCases().filter((c) => supported.has(c.architecture));

let cacheDir: string;
before(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'el-parity-'));
});
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

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

    // Prefill: whole batch in one run, one row at a time in spans of 3 tokens (each span attending
    // to the earlier ones through the cache), one token at a time. Lens head: one group, two layer
    // groups, one group per layer (kl:next and kl:final cross the group edges).
    const n = g.prompts.length;
    const modes = [
      { batchSize: 1, prefillTokens: 512, lensGroups: 1, mode: 'single' },
      { batchSize: n, prefillTokens: 512, lensGroups: 2, mode: `batch of ${n}, left-padded, lens in 2 layer groups` },
      { batchSize: n, prefillTokens: 3, lensGroups: 1, mode: `batch of ${n}, prefill in spans of 3 tokens` },
      { batchSize: n, prefillTokens: 1, lensGroups: c.num_layers, mode: `batch of ${n}, prefill one token at a time, lens one layer per group` },
    ];
    for (const { batchSize, prefillTokens, lensGroups, mode } of modes) {
      it(`golden and extras metrics (${mode})`, async () => {
        const rs = await collect(model.profile(prompts, { maxNewTokens: NEW, metrics, topK: 5, anchorIds: x.anchor_ids, batchSize, prefillTokens, lensGroups }));
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

    // The lens over every position of full_sequence (prompt + greedy tokens) in one prefill: position
    // prompt_len − 1 + s sees exactly the text of step s, so it must give the golden step s.
    it('the lens over the positions of full_sequence equals the golden steps (batched, in spans of 3, 2 layer groups)', async () => {
      const full = g.prompts.map((p) => ({ ids: p.full_sequence }));
      const rs = await collect(model.profile(full, { positions: 'prompt', metrics, anchorIds: x.anchor_ids, batchSize: n, positionTokens: 3, lensGroups: 2 }));
      for (const r of rs) {
        const gp = g.prompts[r.index];
        const xp = x.prompts[r.index];
        const tag = `${c.case} prompt ${r.index} over positions`;
        const P = gp.input_ids.length;
        const at = <T>(rows: T[]): T[] => gp.generated_ids.map((_, s) => rows[P - 1 + s]);
        assert.deepEqual(r.generatedIds, [], `${tag}: nothing generated`);
        assert.deepEqual(at(r.positions!.argmax), gp.lens_argmax, `${tag}: lens argmax`);
        close(`${tag} shannon`, at(r.positions!.metrics.shannon), gp.entropy);
        for (const a of ['0.5', '2', '5']) close(`${tag} renyi:${a}`, at(r.positions!.metrics[`renyi:${a}`]), gp.renyi[`${a}.0`] ?? gp.renyi[a]);
        for (const n of extraNames) close(`${tag} ${n}`, at(r.positions!.metrics[parseMetric(n).name]), xp.metrics[n]);
        // each generated token is the greedy one: rank 0 at the last layer where it follows
        for (let s = 0; s + 1 < gp.generated_ids.length; s++) assert.equal(r.positions!.nextRank[P - 1 + s][c.num_layers - 1], 0, `${tag}: next rank at step ${s}`);
      }
    });

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

it('covers every supported architecture that has a fixture', () => {
  assert.ok(cases.length >= 20, `only ${cases.length} parity cases ran`);
});
