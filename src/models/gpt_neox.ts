/** GPT-NeoX / Pythia: fused per-head-interleaved query_key_value, partial rotary, parallel or sequential residual. */
import { WeightList, activation, baseSpec, biases, bool, hasBias, int, num, ropeFromConfig, str, known } from './common.js';
import type { Architecture } from './types.js';

export const gpt_neox: Architecture = {
  modelTypes: ['gpt_neox'],
  hfClasses: ['GPTNeoXForCausalLM'],
  features: ['fused query_key_value (per-head q, k, v)', 'partial rotary (rotary_pct)', 'parallel or sequential residual', 'tied or untied embed_out'],
  checkpoints: [
    known('EleutherAI/pythia-70m', 6, 512, 8, 50304, '70M'),
    known('EleutherAI/pythia-160m', 12, 768, 12, 50304, '160M'),
    known('EleutherAI/pythia-410m', 24, 1024, 16, 50304, '410M'),
    known('EleutherAI/pythia-1b', 16, 2048, 8, 50304, '1.0B'),
    known('EleutherAI/pythia-1.4b', 24, 2048, 16, 50304, '1.4B'),
    known('EleutherAI/pythia-2.8b', 32, 2560, 32, 50304, '2.8B'),
    known('EleutherAI/pythia-6.9b', 32, 4096, 32, 50432, '6.9B'),
    known('EleutherAI/pythia-12b', 36, 5120, 40, 50688, '12B'),
  ],
  prefixes: ['gpt_neox.', ''],
  spec(cfg) {
    const nHeads = int(cfg, 'num_attention_heads');
    const headDim = int(cfg, 'hidden_size') / nHeads;
    const attnBias = bool(cfg, 'attention_bias', true);
    return baseSpec(cfg, {
      modelType: 'gpt_neox',
      nKvHeads: nHeads,
      headDim,
      norm: { kind: 'layer', eps: num(cfg, 'layer_norm_eps', 1e-5) },
      rope: ropeFromConfig(cfg, Math.floor(headDim * num(cfg, ['rotary_pct', 'partial_rotary_factor'], 1)), ['rotary_emb_base', 'rope_theta'], 10000),
      mlp: { gated: false, act: activation(str(cfg, 'hidden_act', 'gelu')) },
      residual: bool(cfg, 'use_parallel_residual', true) ? 'parallel' : 'sequential',
      bias: biases({ qkv: attnBias, o: attnBias, mlp: true }),
      fusedQkv: 'groups',
    });
  },
  weights(spec, r, ckpt) {
    const w = new WeightList(r, ckpt);
    const { dModel: d, nHeads: H, headDim: hd } = spec;
    const inter = int(ckpt.config, 'intermediate_size', 4 * d);
    const bias = hasBias(spec, 'qkv');
    w.embeddings(spec, ['embed_in.weight'], ['embed_out.weight']);
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `layers.${i}`;
      w.normPair(`${p}.attn_norm`, `${p}.input_layernorm`, [d]);
      w.normPair(`${p}.mlp_norm`, `${p}.post_attention_layernorm`, [d]);
      // query_key_value rows are [head][q|k|v][hd] (fusedQkv 'groups' of one query head)
      w.linearModule(`${p}.attn.qkv`, `${p}.attention.query_key_value`, 3 * H * hd, d, bias);
      w.linearModule(`${p}.attn.o`, `${p}.attention.dense`, d, d, hasBias(spec, 'o'));
      w.linearModule(`${p}.mlp.up`, `${p}.mlp.dense_h_to_4h`, inter, d, hasBias(spec, 'mlp'));
      w.linearModule(`${p}.mlp.down`, `${p}.mlp.dense_4h_to_h`, d, inter, hasBias(spec, 'mlp'));
    }
    w.normPair('final_norm', 'final_layer_norm', [d]);
    return w.items;
  },
};
