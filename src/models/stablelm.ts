/**
 * StableLM / StableLM-2 (StableLmForCausalLM): LayerNorm with bias, partial rotary
 * (partial_rotary_factor), optional q/k/v biases (use_qkv_bias), optional LayerNorm per head on q
 * and k with one weight per head (qk_layernorm, `norms.{h}`), SwiGLU, sequential or parallel residual.
 */
import { WeightList, baseSpec, biases, bool, checkHeads, hasBias, int, num, ropeFromConfig, known } from './common.js';
import type { Architecture } from './types.js';

export const stablelm: Architecture = {
  modelTypes: ['stablelm'],
  hfClasses: ['StableLmForCausalLM'],
  features: ['LayerNorm', 'partial rotary (partial_rotary_factor)', 'q/k/v biases (use_qkv_bias)', 'per-head q/k LayerNorm (qk_layernorm)', 'parallel or sequential residual', 'grouped-query attention'],
  checkpoints: [
    known('stabilityai/stablelm-2-1_6b', 24, 2048, 32, 100352, '1.6B', { note: 'qkv bias' }),
    known('stabilityai/stablelm-2-zephyr-1_6b', 24, 2048, 32, 100352, '1.6B', { note: 'qkv bias' }),
    known('stabilityai/stablelm-3b-4e1t', 32, 2560, 32, 50304, '2.8B'),
    known('stabilityai/stablelm-2-12b', 40, 5120, 32, 100352, '12B', { kvHeads: 8, note: 'q/k LayerNorm, parallel residual' }),
  ],
  prefixes: ['model.', ''],
  spec(cfg) {
    const headDim = int(cfg, 'hidden_size') / int(cfg, 'num_attention_heads');
    const eps = num(cfg, 'layer_norm_eps', 1e-5);
    const parallel = bool(cfg, 'use_parallel_residual', false);
    const spec = baseSpec(cfg, {
      modelType: 'stablelm',
      headDim,
      maxPositions: int(cfg, 'max_position_embeddings', 4096),
      norm: { kind: 'layer', eps },
      // one weight per head (norms.{h}), no bias
      qkNorm: bool(cfg, 'qk_layernorm', false) ? { kind: 'layer', eps, bias: false } : undefined,
      rope: ropeFromConfig(cfg, Math.floor(headDim * num(cfg, 'partial_rotary_factor', 0.25))),
      residual: parallel ? 'parallel' : 'sequential',
      sharedBlockNorm: parallel || undefined,
      bias: biases({ qkv: bool(cfg, 'use_qkv_bias', false) }),
    });
    checkHeads(spec);
    return spec;
  },
  weights(spec, r, ckpt) {
    const cfg = ckpt.config;
    const w = new WeightList(r, ckpt);
    const { dModel: d, nHeads: H, nKvHeads: KV, headDim: hd } = spec;
    const inter = int(cfg, 'intermediate_size');
    w.embeddings(spec, ['embed_tokens.weight'], ['lm_head.weight']);
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `layers.${i}`;
      w.normPair(`${p}.attn_norm`, `${p}.input_layernorm`, [d]);
      if (!spec.sharedBlockNorm) {
        w.normPair(`${p}.mlp_norm`, `${p}.post_attention_layernorm`, [d]);
      }
      for (const [n, out] of [['q', H * hd], ['k', KV * hd], ['v', KV * hd]] as const) w.linearModule(`${p}.attn.${n}`, `${p}.self_attn.${n}_proj`, out, d, hasBias(spec, 'qkv'));
      w.linear(`${p}.attn.o.weight`, `${p}.self_attn.o_proj.weight`, d, H * hd);
      if (spec.qkNorm) {
        // one LayerNorm (weight only) per head, stacked to [heads, hd]
        for (const [n, heads] of [['q', H], ['k', KV]] as const) {
          const names = Array.from({ length: heads }, (_, h) => `${p}.self_attn.${n}_layernorm.norms.${h}.weight`);
          for (const hf of names) w.expect(hf, [hd]);
          w.derived(`${p}.attn.${n}_norm.weight`, [heads, hd], () => {
            const out = new Float32Array(heads * hd);
            names.forEach((hf, h) => out.set(r.get(hf), h * hd));
            return out;
          });
        }
      }
      w.linear(`${p}.mlp.gate.weight`, `${p}.mlp.gate_proj.weight`, inter, d);
      w.linear(`${p}.mlp.up.weight`, `${p}.mlp.up_proj.weight`, inter, d);
      w.linear(`${p}.mlp.down.weight`, `${p}.mlp.down_proj.weight`, d, inter);
    }
    w.normPair('final_norm', 'norm', [d]);
    return w.items;
  },
};
