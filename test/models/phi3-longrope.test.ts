/**
 * Phi-3 LongRoPE has no fixture (the phi3 fixture has rope_scaling null), so it is tested against a
 * float64 reference of HF semantics: inv_freq = 1 / (ext · base^(2i/dim)) with ext = short_factor
 * while max(position_ids) + 1 ≤ original_max_position_embeddings and long_factor beyond;
 * cos and sin × √(1 + ln(max/original) / ln(original)); fused qkv_proj and gate_up_proj.
 * One prompt stays within the original context for the whole generation, one starts beyond it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TinyCheckpoint, assertPositionsMatchReference, type Forward, add, attention, heads, linear, rmsNorm, rope, silu, assertProfilesMatchReference, tinyModelFor } from '../helpers/reference-ops.js';
import { PHI3_LONGROPE_CFG as CFG, buildPhi3LongRope as build } from '../helpers/reference-models.js';

const TOL = 1e-4;

function phi3Reference(c: TinyCheckpoint): Forward {
  const { hidden_size: d, intermediate_size: f, num_attention_heads: H, num_key_value_heads: KV, rms_norm_eps: eps } = CFG;
  const hd = d / H;
  const orig = CFG.original_max_position_embeddings;
  const attnFactor = Math.sqrt(1 + Math.log(CFG.max_position_embeddings / orig) / Math.log(orig));
  const emb = c.get('model.embed_tokens.weight');
  return (ids) => {
    const ext = ids.length > orig ? CFG.rope_scaling.long_factor : CFG.rope_scaling.short_factor;
    const freq = ext.map((e, i) => 1 / (e * CFG.rope_theta ** ((2 * i) / hd)));
    let x = ids.map((id) => Array.from(emb.subarray(id * d, (id + 1) * d)));
    const outs: number[][][] = [x];
    for (let l = 0; l < CFG.num_hidden_layers; l++) {
      const p = `model.layers.${l}`;
      const h = x.map((r) => rmsNorm(r, c.get(`${p}.input_layernorm.weight`), eps, false));
      const qkv = linear(h, c.get(`${p}.self_attn.qkv_proj.weight`), (H + 2 * KV) * hd, d);
      const q = heads(qkv.map((r) => r.slice(0, H * hd)), H, hd).map((hs) => hs.map((v, i) => rope(v, i, freq, attnFactor)));
      const k = heads(qkv.map((r) => r.slice(H * hd, (H + KV) * hd)), KV, hd).map((hs) => hs.map((v, i) => rope(v, i, freq, attnFactor)));
      const v = heads(qkv.map((r) => r.slice((H + KV) * hd)), KV, hd);
      x = add(x, linear(attention(q, k, v, { scale: 1 / Math.sqrt(hd) }), c.get(`${p}.self_attn.o_proj.weight`), d, H * hd));
      const m = x.map((r) => rmsNorm(r, c.get(`${p}.post_attention_layernorm.weight`), eps, false));
      const gu = linear(m, c.get(`${p}.mlp.gate_up_proj.weight`), 2 * f, d);
      const act = gu.map((r) => r.slice(f).map((u, j) => u * silu(r[j])));
      x = add(x, linear(act, c.get(`${p}.mlp.down_proj.weight`), d, f));
      outs.push(x);
    }
    return outs;
  };
}

function phi3Lens(c: TinyCheckpoint): (resid: number[]) => number[] {
  const { hidden_size: d, vocab_size: V, rms_norm_eps: eps } = CFG;
  return (r) => linear([rmsNorm(r, c.get('model.norm.weight'), eps, false)], c.get('lm_head.weight'), V, d)[0];
}

describe('phi3 LongRoPE against a float64 reference of HF semantics', () => {
  const t = tinyModelFor('phi3', build);
  const STEPS = 3;

  it('the lens over prompt positions matches the reference (prompts kept whole: the rotary factors depend on the length)', async () => {
    for (const [, prompts] of cases) await assertPositionsMatchReference(t.model, prompts, { batchSize: 2, positionTokens: 3 }, phi3Reference(t.ckpt), phi3Lens(t.ckpt), TOL);
  });

  const cases: [string, number[][]][] = [
    ['within the original context (short factors)', [[1, 17, 33, 5, 71], [1, 60]]],
    ['beyond the original context from the start (long factors)', [[1, 17, 33, 5, 71, 9, 40, 12, 64, 3]]],
  ];
  for (const [what, prompts] of cases) {
    it(`matches the reference ${what}, single, batched, and with a small prefillTokens`, async () => {
      // prefillTokens 3 would split the 10-token prompt into spans, whose rotary factors would then
      // be chosen per span: the engine keeps such prompts whole
      for (const [batchSize, prefillTokens] of [[1, undefined], [prompts.length, undefined], [1, 3]]) {
        await assertProfilesMatchReference(t.model, prompts, STEPS, { batchSize, prefillTokens }, phi3Reference(t.ckpt), phi3Lens(t.ckpt), TOL);
      }
    });
  }

  it('uses different frequencies on the two sides of the original context (the test can fail)', () => {
    const rope = t.model.spec.rope as { invFreq: Float32Array; long?: { invFreq: Float32Array } };
    assert.ok(rope.long && rope.long.invFreq[3] < rope.invFreq[3] / 5);
  });
});
