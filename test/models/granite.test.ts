/**
 * Granite has no Hugging Face fixture, so it is tested against a float64 reference of HF's
 * GraniteForCausalLM semantics: embeddings × embedding_multiplier; per layer
 * x + attn(RMSNorm(x)) · residual_multiplier with scores × attention_multiplier (no 1/√d),
 * then x + SwiGLU(RMSNorm(x)) · residual_multiplier; final RMSNorm, lm_head, ÷ logits_scaling.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProfileOptions, ProfileResult } from '../../src/lens/model.js';
import { TinyCheckpoint, assertPositionsMatchReference, normalSampler, referenceProfile, type Forward, add, attention, heads, invFreq, linear, rmsNorm, rope, silu, assertProfilesMatchReference, tinyModelFor } from '../helpers/reference-ops.js';
import { GRANITE_CFG as CFG, buildGranite as build } from '../helpers/reference-models.js';

const TOL = 1e-4;

/** `steer`: h ← h + scale·vector after block `layer` at every position (activation addition). */
function graniteReference(c: TinyCheckpoint, steer?: { layer: number; vector: number[]; scale: number }): Forward {
  const { hidden_size: d, intermediate_size: f, num_attention_heads: H, num_key_value_heads: KV, rms_norm_eps: eps, residual_multiplier: rm } = CFG;
  const hd = d / H;
  const freq = invFreq(CFG.rope_theta, hd);
  const emb = c.get('model.embed_tokens.weight');
  const scaled = (x: number[][]): number[][] => x.map((r) => r.map((v) => v * rm));
  return (ids) => {
    let x = ids.map((id) => Array.from(emb.subarray(id * d, (id + 1) * d), (v) => v * CFG.embedding_multiplier));
    const outs: number[][][] = [x];
    for (let l = 0; l < CFG.num_hidden_layers; l++) {
      const p = `model.layers.${l}`;
      const h = x.map((r) => rmsNorm(r, c.get(`${p}.input_layernorm.weight`), eps, false));
      const q = heads(linear(h, c.get(`${p}.self_attn.q_proj.weight`), H * hd, d), H, hd).map((hs) => hs.map((v, i) => rope(v, i, freq)));
      const k = heads(linear(h, c.get(`${p}.self_attn.k_proj.weight`), KV * hd, d), KV, hd).map((hs) => hs.map((v, i) => rope(v, i, freq)));
      const v = heads(linear(h, c.get(`${p}.self_attn.v_proj.weight`), KV * hd, d), KV, hd);
      x = add(x, scaled(linear(attention(q, k, v, { scale: CFG.attention_multiplier }), c.get(`${p}.self_attn.o_proj.weight`), d, H * hd)));
      const m = x.map((r) => rmsNorm(r, c.get(`${p}.post_attention_layernorm.weight`), eps, false));
      const gate = linear(m, c.get(`${p}.mlp.gate_proj.weight`), f, d);
      const up = linear(m, c.get(`${p}.mlp.up_proj.weight`), f, d);
      x = add(x, scaled(linear(gate.map((r, i) => r.map((g, j) => silu(g) * up[i][j])), c.get(`${p}.mlp.down_proj.weight`), d, f)));
      if (steer?.layer === l) x = x.map((r) => r.map((v, j) => v + steer.scale * steer.vector[j]));
      outs.push(x);
    }
    return outs;
  };
}

function graniteLens(c: TinyCheckpoint): (resid: number[]) => number[] {
  const { hidden_size: d, vocab_size: V, rms_norm_eps: eps } = CFG;
  return (r) => linear([rmsNorm(r, c.get('model.norm.weight'), eps, false)], c.get('lm_head.weight'), V, d)[0].map((z) => z / CFG.logits_scaling);
}

describe('granite against a float64 reference of HF semantics', () => {
  const t = tinyModelFor('granite', build);
  const prompts = [[0, 17, 33, 5, 71, 9, 40, 12], [0, 60, 7]];
  const STEPS = 6;

  it('the lens over prompt positions matches the reference at every position and layer (one prompt per run in spans, batched, embeddings as a layer)', async () => {
    for (const o of [{ batchSize: 1, positionTokens: 3 }, { batchSize: 2, positionTokens: 64, lensGroups: 2 }, { batchSize: 2, positionTokens: 1, lensEmbeddings: true }]) {
      await assertPositionsMatchReference(t.model, prompts, o, graniteReference(t.ckpt), graniteLens(t.ckpt), TOL);
    }
  });

  it('a zero steering vector changes nothing, bit for bit', async () => {
    const run = async (o: ProfileOptions): Promise<ProfileResult[]> => {
      const out: ProfileResult[] = [];
      for await (const r of t.model.profile(prompts.map((ids) => ({ ids })), { maxNewTokens: STEPS, batchSize: 2, metrics: 'shannon,kl:next', ...o })) out.push(r);
      return out;
    };
    const zero = new Array<number>(CFG.hidden_size).fill(0);
    assert.deepEqual(await run({ interventions: [{ kind: 'add', layer: 1, vector: zero, factor: 3 }] }), await run({}));
  });

  it('a steering vector after block 1 matches the reference (single and batched)', async () => {
    const randn = normalSampler(7);
    const vector = Array.from({ length: CFG.hidden_size }, () => randn());
    for (const batchSize of [1, 2]) {
      const interventions = [{ kind: 'add' as const, layer: 1, vector, factor: 2.5 }];
      await assertProfilesMatchReference(t.model, prompts, STEPS, { batchSize, interventions }, graniteReference(t.ckpt, { layer: 1, vector, scale: 2.5 }), graniteLens(t.ckpt), TOL);
    }
    // and it does something: the reference without the vector differs
    const plain = referenceProfile(prompts[0], STEPS, graniteReference(t.ckpt), graniteLens(t.ckpt));
    const steered = referenceProfile(prompts[0], STEPS, graniteReference(t.ckpt, { layer: 1, vector, scale: 2.5 }), graniteLens(t.ckpt));
    assert.ok(Math.abs(plain.shannon[0][2] - steered.shannon[0][2]) > 1e-2);
  });

  for (const batchSize of [1, 2]) {
    it(`matches the reference (batch ${batchSize})`, async () => {
      await assertProfilesMatchReference(t.model, prompts, STEPS, { batchSize }, graniteReference(t.ckpt), graniteLens(t.ckpt), TOL);
    });
  }
});
