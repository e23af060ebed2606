/**
 * gemma3_text has no Hugging Face fixture, so it is tested against a float64 reference written
 * here from the semantics of HF's Gemma3ForCausalLM (modeling_gemma3.py): embeddings × √hidden;
 * per layer input RMSNorm (1 + w), q/k/v, q_norm/k_norm (1 + w) per head, rotary with
 * rope_local_base_freq on sliding layers and rope_theta with linear rope_scaling on global ones,
 * scores × query_pre_attn_scalar^-½, sliding window on layers with (i + 1) % pattern ≠ 0
 * (key j visible to query i when i − window < j ≤ i), post-attention RMSNorm, residual,
 * pre/post-feedforward RMSNorms around the GeGLU MLP, residual; final RMSNorm, tied lm_head,
 * final-logit soft-cap. The reference runs without KV cache; the engine runs with it, batched too.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LensModel, type ProfileResult } from '../../src/lens/model.js';
import { writeSafetensors, type TensorToWrite } from '../helpers/safetensors-writer.js';
import { TinyCheckpoint, assertPositionsMatchReference, type Forward, add, attention, geluTanh, heads, invFreq, linear, referenceProfile, rmsNorm, rope, assertProfilesMatchReference, tinyModelFor } from '../helpers/reference-ops.js';
import { GEMMA3_CFG as CFG, buildGemma3 as build } from '../helpers/reference-models.js';

const TOL = 1e-4;

/** HF Gemma3 forward; `swapRopes` exchanges the local and global rotary (a deliberately wrong variant). */
function gemma3Reference(c: TinyCheckpoint, swapRopes = false): Forward {
  const { hidden_size: d, intermediate_size: f, num_attention_heads: H, num_key_value_heads: KV, head_dim: hd, rms_norm_eps: eps } = CFG;
  const globalFreq = invFreq(CFG.rope_theta, hd).map((v) => v / CFG.rope_scaling.factor);
  const localFreq = invFreq(CFG.rope_local_base_freq, hd);
  const embed = c.get('model.embed_tokens.weight');
  const scale = Math.fround(Math.sqrt(d));
  return (ids) => {
    let x = ids.map((id) => Array.from(embed.subarray(id * d, (id + 1) * d), (v) => v * scale));
    const outs: number[][][] = [x];
    for (let l = 0; l < CFG.num_hidden_layers; l++) {
      const p = `model.layers.${l}`;
      const sliding = (l + 1) % CFG.sliding_window_pattern !== 0;
      const freq = sliding !== swapRopes ? localFreq : globalFreq;
      const h = x.map((r) => rmsNorm(r, c.get(`${p}.input_layernorm.weight`), eps, true));
      const qn = c.get(`${p}.self_attn.q_norm.weight`);
      const kn = c.get(`${p}.self_attn.k_norm.weight`);
      const q = heads(linear(h, c.get(`${p}.self_attn.q_proj.weight`), H * hd, d), H, hd).map((hs) => hs.map((v, i) => rope(rmsNorm(v, qn, eps, true), i, freq)));
      const k = heads(linear(h, c.get(`${p}.self_attn.k_proj.weight`), KV * hd, d), KV, hd).map((hs) => hs.map((v, i) => rope(rmsNorm(v, kn, eps, true), i, freq)));
      const v = heads(linear(h, c.get(`${p}.self_attn.v_proj.weight`), KV * hd, d), KV, hd);
      const ctx = attention(q, k, v, { scale: CFG.query_pre_attn_scalar ** -0.5, visible: sliding ? (i, j) => j > i - CFG.sliding_window : undefined });
      const a = linear(ctx, c.get(`${p}.self_attn.o_proj.weight`), d, H * hd).map((r) => rmsNorm(r, c.get(`${p}.post_attention_layernorm.weight`), eps, true));
      x = add(x, a);
      const m0 = x.map((r) => rmsNorm(r, c.get(`${p}.pre_feedforward_layernorm.weight`), eps, true));
      const gate = linear(m0, c.get(`${p}.mlp.gate_proj.weight`), f, d);
      const up = linear(m0, c.get(`${p}.mlp.up_proj.weight`), f, d);
      const m = linear(gate.map((r, i) => r.map((g, j) => geluTanh(g) * up[i][j])), c.get(`${p}.mlp.down_proj.weight`), d, f);
      x = add(x, m.map((r) => rmsNorm(r, c.get(`${p}.post_feedforward_layernorm.weight`), eps, true)));
      outs.push(x);
    }
    return outs;
  };
}

function gemma3Lens(c: TinyCheckpoint): (resid: number[]) => number[] {
  const { hidden_size: d, vocab_size: V, rms_norm_eps: eps, final_logit_softcapping: cap } = CFG;
  return (r) => linear([rmsNorm(r, c.get('model.norm.weight'), eps, true)], c.get('model.embed_tokens.weight'), V, d)[0].map((z) => cap * Math.tanh(z / cap));
}

function maxDrift(got: number[][], want: number[][]): number {
  let m = 0;
  for (let t = 0; t < want.length; t++) for (let l = 0; l < want[t].length; l++) m = Math.max(m, Math.abs(got[t][l] - want[t][l]));
  return m;
}

describe('gemma3_text against a float64 reference of HF semantics', () => {
  const t = tinyModelFor('gemma3', build);
  const prompts = [[2, 17, 33, 5, 71, 9, 40, 88, 12, 3], [2, 60, 7, 25]];
  const STEPS = 6;

  it('the lens over prompt positions matches the reference at every position and layer (one prompt per run in spans, batched, embeddings as a layer)', async () => {
    for (const o of [{ batchSize: 1, positionTokens: 3 }, { batchSize: 2, positionTokens: 64, lensGroups: 2 }, { batchSize: 2, positionTokens: 1, lensEmbeddings: true }]) {
      await assertPositionsMatchReference(t.model, prompts, o, gemma3Reference(t.ckpt), gemma3Lens(t.ckpt), TOL);
    }
  });

  it('reads the layer pattern, windows and rotary per layer', () => {
    assert.deepEqual(t.model.spec.slidingWindow, [3, 3, null, 3]);
    assert.equal(t.model.spec.finalSoftcap, 8);
    assert.ok(Array.isArray(t.model.spec.rope) && t.model.spec.rope[0] !== t.model.spec.rope[2]);
  });

  for (const batchSize of [1, 2]) {
    it(`matches the reference (batch ${batchSize})`, async () => {
      await assertProfilesMatchReference(t.model, prompts, STEPS, { batchSize }, gemma3Reference(t.ckpt), gemma3Lens(t.ckpt), TOL);
    });
  }

  it('reads the same model inside a multimodal gemma3 checkpoint (text_config, language_model.* names)', async () => {
    const mm = path.join(t.dir, 'multimodal');
    fs.mkdirSync(mm);
    // text_config omits what equals Gemma3TextConfig's defaults, as published configs do
    const omitted = new Set(['rms_norm_eps', 'hidden_activation', 'bos_token_id', 'eos_token_id', 'tie_word_embeddings', 'architectures', 'attn_logit_softcapping']);
    const textConfig = Object.fromEntries(Object.entries(CFG).filter(([k]) => !omitted.has(k)));
    const config = { architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3', text_config: textConfig, vision_config: { model_type: 'siglip_vision_model' } };
    fs.writeFileSync(path.join(mm, 'config.json'), JSON.stringify(config));
    const tensors: Record<string, TensorToWrite> = { 'vision_tower.vision_model.post_layernorm.weight': { dtype: 'F32', shape: [4], data: [1, 1, 1, 1] } };
    for (const [name, tensor] of t.ckpt.tensors) tensors[name.replace(/^model\./, 'language_model.model.')] = { dtype: 'F32', shape: tensor.shape, data: tensor.data };
    writeSafetensors(path.join(mm, 'model.safetensors'), tensors);
    const mmModel = await LensModel.load(mm, { cacheDir: path.join(t.dir, 'cache'), threads: 1 });
    try {
      assert.equal(mmModel.spec.modelType, 'gemma3');
      const opts = { maxNewTokens: STEPS };
      const a: ProfileResult[] = [];
      const b: ProfileResult[] = [];
      for await (const r of t.model.profile([{ ids: prompts[0] }], opts)) a.push(r);
      for await (const r of mmModel.profile([{ ids: prompts[0] }], opts)) b.push(r);
      assert.deepEqual(b[0].generatedIds, a[0].generatedIds);
      assert.ok(maxDrift(b[0].metrics.shannon, a[0].metrics.shannon) < 1e-6);
    } finally {
      await mmModel.close();
    }
  });

  it('is sensitive to the local/global rotary split (the reference can fail)', async () => {
    const rs: ProfileResult[] = [];
    for await (const r of t.model.profile([{ ids: prompts[0] }], { maxNewTokens: STEPS })) rs.push(r);
    const wrong = referenceProfile(prompts[0], STEPS, gemma3Reference(t.ckpt, true), gemma3Lens(t.ckpt));
    assert.ok(maxDrift(rs[0].metrics.shannon, wrong.shannon) > 1e-2);
  });
});
