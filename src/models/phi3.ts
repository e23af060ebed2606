/**
 * Phi-3 / Phi-3.5 / Phi-4-mini (Phi3ForCausalLM): Llama's block with q, k, v fused in `qkv_proj`
 * (rows q | k | v) and gate and up fused in `gate_up_proj` (rows gate | up), LongRoPE scaling
 * (`longrope`, formerly `su`) and optional partial rotary.
 *
 * LongRoPE picks short or long factors by the longest position of each forward call, as HF does.
 * A generation that crosses original_max_position_embeddings keeps the keys cached before the
 * crossing (short factors), which is what HF does with its KV cache; the no-cache recomputation
 * of the reference would redo them with the long factors. Prompts that start beyond the original
 * context, or stay within it, are unaffected.
 */
import { WeightList, baseSpec, checkHeads, int, num, uniformWindows, known } from './common.js';
import { cfgOptionalInt } from './config.js';
import type { Architecture } from './types.js';

export const phi3: Architecture = {
  modelTypes: ['phi3'],
  hfClasses: ['Phi3ForCausalLM'],
  features: ['fused qkv_proj (q | k | v)', 'fused gate_up_proj (gate | up)', 'rope_scaling longrope / su (short and long factors)', 'partial_rotary_factor', 'sliding_window', 'grouped-query attention'],
  checkpoints: [
    known('microsoft/Phi-3-mini-4k-instruct', 32, 3072, 32, 32064, '3.8B'),
    known('microsoft/Phi-3-mini-128k-instruct', 32, 3072, 32, 32064, '3.8B', { note: 'longrope' }),
    known('microsoft/Phi-3.5-mini-instruct', 32, 3072, 32, 32064, '3.8B', { note: 'longrope' }),
    known('microsoft/Phi-4-mini-instruct', 32, 3072, 24, 200064, '3.8B', { kvHeads: 8, note: 'longrope, partial rotary 0.75, tied' }),
  ],
  prefixes: ['model.', ''],
  spec(cfg) {
    const spec = baseSpec(cfg, {
      modelType: 'phi3',
      maxPositions: int(cfg, 'max_position_embeddings', 4096),
      norm: { kind: 'rms', eps: num(cfg, 'rms_norm_eps', 1e-5) },
      slidingWindow: uniformWindows(int(cfg, 'num_hidden_layers'), cfgOptionalInt(cfg, 'sliding_window') ?? null),
    });
    checkHeads(spec);
    return spec;
  },
  weights(spec, r, ckpt) {
    const w = new WeightList(r, ckpt);
    const { dModel: d, nHeads: H, nKvHeads: KV, headDim: hd } = spec;
    const inter = int(ckpt.config, 'intermediate_size');
    w.embeddings(spec, ['embed_tokens.weight'], ['lm_head.weight']);
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `layers.${i}`;
      w.plain(`${p}.attn_norm.weight`, `${p}.input_layernorm.weight`, [d]);
      w.plain(`${p}.mlp_norm.weight`, `${p}.post_attention_layernorm.weight`, [d]);
      const qkv = `${p}.self_attn.qkv_proj.weight`;
      w.expect(qkv, [(H + 2 * KV) * hd, d]);
      const parts: [string, number, number][] = [['q', 0, H * hd], ['k', H * hd, KV * hd], ['v', (H + KV) * hd, KV * hd]];
      for (const [n, from, count] of parts) w.rowBlocks(`${p}.attn.${n}.weight`, qkv, d, [[from, count]]);
      w.linear(`${p}.attn.o.weight`, `${p}.self_attn.o_proj.weight`, d, H * hd);
      const gateUp = `${p}.mlp.gate_up_proj.weight`;
      w.expect(gateUp, [2 * inter, d]);
      w.rowBlocks(`${p}.mlp.gate.weight`, gateUp, d, [[0, inter]]);
      w.rowBlocks(`${p}.mlp.up.weight`, gateUp, d, [[inter, inter]]);
      w.linear(`${p}.mlp.down.weight`, `${p}.mlp.down_proj.weight`, d, inter);
    }
    w.plain('final_norm.weight', 'norm.weight', [d]);
    return w.items;
  },
};
