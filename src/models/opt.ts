/**
 * OPT (OPTForCausalLM): learned positions looked up at position + 2, ReLU MLP (fc1, fc2), biases,
 * pre-LayerNorm blocks or post-LayerNorm ones (do_layer_norm_before = false, OPT-350m), and when
 * word_embed_proj_dim ≠ hidden_size a projection after the token embeddings (project_in) and one
 * before the unembedding (project_out), which the lens applies too.
 *
 * HF computes OPT's positions from the attention mask (cumsum(mask)·mask − 1); at real tokens that
 * is the token's index in its prompt, which is what the graph's position_ids carry under left padding.
 */
import { WeightList, activation, baseSpec, biases, bool, hasBias, int, num, str, known } from './common.js';
import type { Architecture } from './types.js';

/** Offset of OPT's learned positions (OPTLearnedPositionalEmbedding). */
const POSITION_OFFSET = 2;

export const opt: Architecture = {
  modelTypes: ['opt'],
  hfClasses: ['OPTForCausalLM'],
  features: ['learned positions, offset 2', 'ReLU MLP', 'pre- or post-LayerNorm (do_layer_norm_before)', 'project_in / project_out (word_embed_proj_dim)', 'no final LayerNorm when post-LN or _remove_final_layer_norm'],
  checkpoints: [
    known('facebook/opt-125m', 12, 768, 12, 50272, '125M'),
    known('facebook/opt-350m', 24, 1024, 16, 50272, '350M', { note: 'post-LN, word_embed_proj_dim 512' }),
    known('facebook/opt-1.3b', 24, 2048, 32, 50272, '1.3B'),
    known('facebook/opt-2.7b', 32, 2560, 32, 50272, '2.7B'),
    known('facebook/opt-6.7b', 32, 4096, 32, 50272, '6.7B'),
  ],
  prefixes: ['model.decoder.', 'decoder.', ''],
  spec(cfg) {
    const dModel = int(cfg, 'hidden_size');
    const nHeads = int(cfg, 'num_attention_heads');
    const preNorm = bool(cfg, 'do_layer_norm_before', true);
    const bias = bool(cfg, 'enable_bias', true);
    return baseSpec(cfg, {
      modelType: 'opt',
      nKvHeads: nHeads,
      headDim: dModel / nHeads,
      // layer_norm_elementwise_affine = false: unit weights (exported) and no bias
      norm: { kind: 'layer', eps: num(cfg, 'layer_norm_eps', 1e-5), ...(bool(cfg, 'layer_norm_elementwise_affine', true) ? {} : { bias: false }) },
      positions: 'learned',
      learnedPositionOffset: POSITION_OFFSET,
      mlp: { gated: false, act: activation(str(cfg, 'activation_function', 'relu'), 'activation_function') },
      bias: biases({ qkv: bias, o: bias, mlp: bias }),
      tiedEmbeddings: bool(cfg, 'tie_word_embeddings', true),
      ...(preNorm ? {} : { normPlacement: 'post' as const }),
      ...(int(cfg, 'word_embed_proj_dim', dModel) !== dModel ? { embedProjection: true } : {}),
      // HF builds the final LayerNorm only for pre-LN models that did not remove it
      ...(!preNorm || bool(cfg, '_remove_final_layer_norm', false) ? { noFinalNorm: true } : {}),
    });
  },
  weights(spec, r, ckpt) {
    const cfg = ckpt.config;
    const w = new WeightList(r, ckpt);
    const d = spec.dModel;
    const e = int(cfg, 'word_embed_proj_dim', d);
    const ffn = int(cfg, 'ffn_dim');
    const affine = spec.norm.bias !== false;
    // The embedding is [V, e]; WeightList.embeddings checks the width against spec.dModel.
    w.embeddings({ tiedEmbeddings: spec.tiedEmbeddings, dModel: e }, ['embed_tokens.weight'], ['lm_head.weight']);
    if (spec.embedProjection) {
      w.linear('embed_proj.weight', 'project_in.weight', d, e);
      w.linear('unembed_proj.weight', 'project_out.weight', e, d);
    }
    w.plain('pos_embed.weight', 'embed_positions.weight', [spec.maxPositions + POSITION_OFFSET, d]);
    const layerNorm = (canon: string, hf: string): void => {
      if (affine) {
        w.normPair(`${canon}`, `${hf}`, [d]);
      } else {
        w.derived(`${canon}.weight`, [d], () => new Float32Array(d).fill(1));
      }
    };
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `layers.${i}`;
      layerNorm(`${p}.attn_norm`, `${p}.self_attn_layer_norm`);
      layerNorm(`${p}.mlp_norm`, `${p}.final_layer_norm`);
      for (const [n, hf] of [['q', 'q_proj'], ['k', 'k_proj'], ['v', 'v_proj'], ['o', 'out_proj']] as const) w.linearModule(`${p}.attn.${n}`, `${p}.self_attn.${hf}`, d, d, hasBias(spec, n === 'o' ? 'o' : 'qkv'));
      w.linearModule(`${p}.mlp.up`, `${p}.fc1`, ffn, d, hasBias(spec, 'mlp'));
      w.linearModule(`${p}.mlp.down`, `${p}.fc2`, d, ffn, hasBias(spec, 'mlp'));
    }
    if (!spec.noFinalNorm) layerNorm('final_norm', 'final_layer_norm');
    return w.items;
  },
};
