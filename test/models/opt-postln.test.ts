/**
 * OPT-350m's shape has no fixture (the opt fixture is pre-LN without projections), so it is tested
 * against a float64 reference of HF's OPTForCausalLM semantics: token embeddings of width
 * word_embed_proj_dim, project_in to hidden, + learned positions at index + 2, post-LN blocks
 * (do_layer_norm_before = false: x = LN(x + attn(x)); x = LN(x + fc2(relu(fc1(x))))), no final
 * LayerNorm, project_out back to word_embed_proj_dim, tied lm_head. q is scaled by 1/√hd.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TinyCheckpoint, assertPositionsMatchReference, type Forward, add, attention, heads, layerNorm, linear, relu, assertProfilesMatchReference, tinyModelFor } from '../helpers/reference-ops.js';
import { OPT_POSTLN_CFG as CFG, buildOptPostLn as build, OPT_PREFIX as P } from '../helpers/reference-models.js';

const TOL = 1e-4;

function optReference(c: TinyCheckpoint): Forward {
  const { hidden_size: d, word_embed_proj_dim: e, ffn_dim: f, num_attention_heads: H } = CFG;
  const hd = d / H;
  const eps = 1e-5;
  const emb = c.get(`${P}.embed_tokens.weight`);
  const pos = c.get(`${P}.embed_positions.weight`);
  return (ids) => {
    const tok = ids.map((id) => Array.from(emb.subarray(id * e, (id + 1) * e)));
    let x = linear(tok, c.get(`${P}.project_in.weight`), d, e).map((r, i) => r.map((v, j) => v + pos[(i + 2) * d + j]));
    const outs: number[][][] = [x];
    for (let l = 0; l < CFG.num_hidden_layers; l++) {
      const p = `${P}.layers.${l}`;
      const lin = (h: number[][], n: string): number[][] => linear(h, c.get(`${p}.self_attn.${n}.weight`), d, d, c.get(`${p}.self_attn.${n}.bias`));
      const q = heads(lin(x, 'q_proj'), H, hd);
      const ctx = attention(q, heads(lin(x, 'k_proj'), H, hd), heads(lin(x, 'v_proj'), H, hd), { scale: 1 / Math.sqrt(hd) });
      x = add(x, lin(ctx, 'out_proj')).map((r) => layerNorm(r, c.get(`${p}.self_attn_layer_norm.weight`), c.get(`${p}.self_attn_layer_norm.bias`), eps));
      const hidden = linear(x, c.get(`${p}.fc1.weight`), f, d, c.get(`${p}.fc1.bias`)).map((r) => r.map(relu));
      x = add(x, linear(hidden, c.get(`${p}.fc2.weight`), d, f, c.get(`${p}.fc2.bias`))).map((r) =>
        layerNorm(r, c.get(`${p}.final_layer_norm.weight`), c.get(`${p}.final_layer_norm.bias`), eps),
      );
      outs.push(x);
    }
    return outs;
  };
}

function optLens(c: TinyCheckpoint): (resid: number[]) => number[] {
  const { hidden_size: d, word_embed_proj_dim: e, vocab_size: V } = CFG;
  return (r) => linear(linear([r], c.get(`${P}.project_out.weight`), e, d), c.get(`${P}.embed_tokens.weight`), V, e)[0];
}

describe('OPT post-LN with project_in/out against a float64 reference of HF semantics', () => {
  const t = tinyModelFor('opt', build);
  const prompts = [[2, 17, 33, 5, 71, 9, 40, 8], [2, 60, 7]];
  const STEPS = 6;

  it('the lens over prompt positions matches the reference at every position and layer (one prompt per run in spans, batched, embeddings as a layer)', async () => {
    for (const o of [{ batchSize: 1, positionTokens: 3 }, { batchSize: 2, positionTokens: 64, lensGroups: 2 }, { batchSize: 2, positionTokens: 1, lensEmbeddings: true }]) {
      await assertPositionsMatchReference(t.model, prompts, o, optReference(t.ckpt), optLens(t.ckpt), TOL);
    }
  });

  it('reads post-LN, no final norm and the projections', () => {
    assert.equal(t.model.spec.normPlacement, 'post');
    assert.equal(t.model.spec.noFinalNorm, true);
    assert.equal(t.model.spec.vocabSize, CFG.vocab_size);
  });

  for (const batchSize of [1, 2]) {
    it(`matches the reference (batch ${batchSize})`, async () => {
      await assertProfilesMatchReference(t.model, prompts, STEPS, { batchSize }, optReference(t.ckpt), optLens(t.ckpt), TOL);
    });
  }
});
