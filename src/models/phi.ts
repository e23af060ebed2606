/**
 * Phi-1 / Phi-1.5 / Phi-2 (PhiForCausalLM): one LayerNorm feeds attention and the MLP in parallel,
 * partial rotary (partial_rotary_factor of each head), biases everywhere, attention output named
 * `dense`, `final_layernorm`, and an untied lm_head with a bias.
 */
import { WeightList, activation, baseSpec, bool, checkHeads, hasBias, int, num, ropeFromConfig, str, known } from './common.js';
import type { Architecture } from './types.js';

export const phi: Architecture = {
  modelTypes: ['phi'],
  hfClasses: ['PhiForCausalLM'],
  features: ['parallel attention + MLP off one LayerNorm', 'partial rotary (partial_rotary_factor)', 'biases on every linear', 'lm_head bias', 'optional per-head q/k LayerNorm (qk_layernorm)'],
  checkpoints: [
    known('microsoft/phi-1', 24, 2048, 32, 51200, '1.4B'),
    known('microsoft/phi-1_5', 24, 2048, 32, 51200, '1.4B'),
    known('microsoft/phi-2', 32, 2560, 32, 51200, '2.7B'),
  ],
  prefixes: ['model.', ''],
  spec(cfg) {
    const headDim = int(cfg, 'hidden_size') / int(cfg, 'num_attention_heads');
    const eps = num(cfg, 'layer_norm_eps', 1e-5);
    const spec = baseSpec(cfg, {
      modelType: 'phi',
      headDim,
      norm: { kind: 'layer', eps },
      qkNorm: bool(cfg, 'qk_layernorm', false) ? { kind: 'layer', eps } : undefined,
      rope: ropeFromConfig(cfg, Math.floor(headDim * num(cfg, 'partial_rotary_factor', 0.5))),
      mlp: { gated: false, act: activation(str(cfg, 'hidden_act', 'gelu_new')) },
      residual: 'parallel',
      sharedBlockNorm: true,
      // PhiForCausalLM builds every linear with a bias, lm_head included
      bias: { qkv: true, o: true, mlp: true, lmHead: true },
    });
    checkHeads(spec);
    return spec;
  },
  weights(spec, r, ckpt) {
    const w = new WeightList(r, ckpt);
    const { dModel: d, nHeads: H, nKvHeads: KV, headDim: hd } = spec;
    const inter = int(ckpt.config, 'intermediate_size', 4 * d);
    const rows = w.embeddings(spec, ['embed_tokens.weight'], ['lm_head.weight']);
    if (hasBias(spec, 'lmHead')) w.plain('lm_head.bias', 'lm_head.bias', [rows]);
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `layers.${i}`;
      w.normPair(`${p}.attn_norm`, `${p}.input_layernorm`, [d]);
      for (const [n, out] of [['q', H * hd], ['k', KV * hd], ['v', KV * hd]] as const) w.linearModule(`${p}.attn.${n}`, `${p}.self_attn.${n}_proj`, out, d, hasBias(spec, 'qkv'));
      if (spec.qkNorm) {
        for (const n of ['q', 'k']) {
          w.normPair(`${p}.attn.${n}_norm`, `${p}.self_attn.${n}_layernorm`, [hd]);
        }
      }
      w.linearModule(`${p}.attn.o`, `${p}.self_attn.dense`, d, H * hd, hasBias(spec, 'o'));
      w.linearModule(`${p}.mlp.up`, `${p}.mlp.fc1`, inter, d, hasBias(spec, 'mlp'));
      w.linearModule(`${p}.mlp.down`, `${p}.mlp.fc2`, d, inter, hasBias(spec, 'mlp'));
    }
    w.normPair('final_norm', 'final_layernorm', [d]);
    return w.items;
  },
};
