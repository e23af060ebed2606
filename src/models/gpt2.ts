/** GPT-2: learned positions, LayerNorm, fused Conv1D c_attn ([in, out] layout), tied wte. */
import { WeightList, activation, baseSpec, bool, int, num, str, known } from './common.js';
import type { Architecture } from './types.js';

export const gpt2: Architecture = {
  modelTypes: ['gpt2'],
  hfClasses: ['GPT2LMHeadModel'],
  features: ['learned absolute positions', 'Conv1D [in, out] weights', 'fused c_attn', 'scale_attn_by_inverse_layer_idx', 'tied wte'],
  checkpoints: [
    known('openai-community/gpt2', 12, 768, 12, 50257, '124M'),
    known('openai-community/gpt2-medium', 24, 1024, 16, 50257, '355M'),
    known('openai-community/gpt2-large', 36, 1280, 20, 50257, '774M'),
    known('openai-community/gpt2-xl', 48, 1600, 25, 50257, '1.5B'),
  ],
  prefixes: ['transformer.', ''],
  spec(cfg) {
    const dModel = int(cfg, ['n_embd', 'hidden_size']);
    const nHeads = int(cfg, ['n_head', 'num_attention_heads']);
    const nLayers = int(cfg, ['n_layer', 'num_hidden_layers']);
    const headDim = dModel / nHeads;
    const base = bool(cfg, 'scale_attn_weights', true) ? 1 / Math.sqrt(headDim) : 1;
    const byLayer = bool(cfg, 'scale_attn_by_inverse_layer_idx', false);
    return baseSpec(cfg, {
      modelType: 'gpt2',
      nLayers,
      dModel,
      nHeads,
      nKvHeads: nHeads,
      headDim,
      maxPositions: int(cfg, ['n_positions', 'max_position_embeddings']),
      norm: { kind: 'layer', eps: num(cfg, 'layer_norm_epsilon', 1e-5) },
      positions: 'learned',
      attnScale: byLayer ? Array.from({ length: nLayers }, (_, l) => base / (l + 1)) : base,
      mlp: { gated: false, act: activation(str(cfg, 'activation_function', 'gelu_new'), 'activation_function') },
      bias: { qkv: true, o: true, mlp: true },
      fusedQkv: 'blocks',
      tiedEmbeddings: bool(cfg, 'tie_word_embeddings', true),
    });
  },
  weights(spec, r, ckpt) {
    const w = new WeightList(r, ckpt);
    const d = spec.dModel;
    const inner = int(ckpt.config, 'n_inner', 4 * d);
    w.embeddings(spec, ['wte.weight'], ['lm_head.weight']);
    w.plain('pos_embed.weight', 'wpe.weight', [spec.maxPositions, d]);
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `h.${i}`;
      const c = `layers.${i}`;
      w.normPair(`${c}.attn_norm`, `${p}.ln_1`, [d]);
      w.normPair(`${c}.mlp_norm`, `${p}.ln_2`, [d]);
      // c_attn is [d, 3d]: columns [0, d) are q, [d, 2d) k, [2d, 3d) v (fusedQkv 'blocks')
      w.conv1d(`${c}.attn.qkv.weight`, `${p}.attn.c_attn.weight`, d, 3 * d);
      w.plain(`${c}.attn.qkv.bias`, `${p}.attn.c_attn.bias`, [3 * d]);
      w.conv1d(`${c}.attn.o.weight`, `${p}.attn.c_proj.weight`, d, d);
      w.plain(`${c}.attn.o.bias`, `${p}.attn.c_proj.bias`, [d]);
      w.conv1d(`${c}.mlp.up.weight`, `${p}.mlp.c_fc.weight`, d, inner);
      w.plain(`${c}.mlp.up.bias`, `${p}.mlp.c_fc.bias`, [inner]);
      w.conv1d(`${c}.mlp.down.weight`, `${p}.mlp.c_proj.weight`, inner, d);
      w.plain(`${c}.mlp.down.bias`, `${p}.mlp.c_proj.bias`, [d]);
    }
    w.normPair('final_norm', 'ln_f', [d]);
    return w.items;
  },
};
