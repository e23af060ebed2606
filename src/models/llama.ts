/** Llama (LlamaForCausalLM) and the shared shape of its descendants (Mistral, Qwen2, Qwen3). */
import type { Checkpoint, TensorResolver } from './checkpoint.js';
import { WeightList, baseSpec, biases, bool, checkHeads, hasBias, int, num, known, type Config } from './common.js';
import type { Architecture, DecoderSpec, WeightSource } from './types.js';

export interface LlamaLikeOptions {
  modelType: string;
  /** q/k/v biases regardless of config (Qwen2). */
  qkvBias?: boolean;
  /** RMSNorm on each head's q and k before rotary (Qwen3). */
  qkNorm?: boolean;
  /** Sliding window per layer from the config (Mistral, Qwen2/3 have their own rules). */
  windows?: (cfg: Config, nLayers: number) => (number | null)[];
}

export function llamaLikeSpec(cfg: Config, opts: LlamaLikeOptions): DecoderSpec {
  const attnBias = opts.qkvBias || bool(cfg, 'attention_bias', false);
  const spec = baseSpec(cfg, {
    modelType: opts.modelType,
    ...(opts.qkNorm ? { qkNorm: { kind: 'rms', eps: num(cfg, 'rms_norm_eps', 1e-6) } } : {}),
    ...(opts.windows ? { slidingWindow: opts.windows(cfg, int(cfg, 'num_hidden_layers')) } : {}),
    // Qwen2 has q/k/v biases but none on o_proj; Llama's attention_bias covers o_proj too
    bias: biases({ qkv: attnBias, o: attnBias && !opts.qkvBias, mlp: bool(cfg, 'mlp_bias', false) }),
  });
  checkHeads(spec);
  return spec;
}

export function llamaLikeWeights(spec: DecoderSpec, r: TensorResolver, ckpt: Checkpoint, cfg: Config, opts: LlamaLikeOptions): WeightSource[] {
  const w = new WeightList(r, ckpt);
  const { dModel: d, nHeads: H, nKvHeads: KV, headDim: hd } = spec;
  const inter = int(cfg, 'intermediate_size');
  const mlpBias = hasBias(spec, 'mlp');
  w.embeddings(spec, ['embed_tokens.weight'], ['lm_head.weight']);
  for (let i = 0; i < spec.nLayers; i++) {
    const p = `layers.${i}`;
    w.plain(`${p}.attn_norm.weight`, `${p}.input_layernorm.weight`, [d]);
    w.plain(`${p}.mlp_norm.weight`, `${p}.post_attention_layernorm.weight`, [d]);
    const proj: [string, number][] = [['q', H * hd], ['k', KV * hd], ['v', KV * hd]];
    for (const [n, out] of proj) w.linearModule(`${p}.attn.${n}`, `${p}.self_attn.${n}_proj`, out, d, hasBias(spec, 'qkv'));
    w.linearModule(`${p}.attn.o`, `${p}.self_attn.o_proj`, d, H * hd, hasBias(spec, 'o'));
    if (opts.qkNorm) {
      w.plain(`${p}.attn.q_norm.weight`, `${p}.self_attn.q_norm.weight`, [hd]);
      w.plain(`${p}.attn.k_norm.weight`, `${p}.self_attn.k_norm.weight`, [hd]);
    }
    w.linearModule(`${p}.mlp.gate`, `${p}.mlp.gate_proj`, inter, d, mlpBias);
    w.linearModule(`${p}.mlp.up`, `${p}.mlp.up_proj`, inter, d, mlpBias);
    w.linearModule(`${p}.mlp.down`, `${p}.mlp.down_proj`, d, inter, mlpBias);
  }
  w.plain('final_norm.weight', 'norm.weight', [d]);
  return w.items;
}

const opts: LlamaLikeOptions = { modelType: 'llama' };

export const llama: Architecture = {
  modelTypes: ['llama'],
  hfClasses: ['LlamaForCausalLM'],
  features: ['RMSNorm', 'rotary (rope_scaling: linear, dynamic, llama3)', 'grouped-query attention', 'attention_bias', 'mlp_bias', 'head_dim'],
  checkpoints: [
    known('meta-llama/Llama-3.2-1B-Instruct', 16, 2048, 32, 128256, '1.2B', { kvHeads: 8, note: 'rope_scaling llama3, tied' }),
    known('meta-llama/Llama-3.2-3B-Instruct', 28, 3072, 24, 128256, '3.2B', { kvHeads: 8, note: 'rope_scaling llama3, tied' }),
    known('meta-llama/Meta-Llama-3-8B-Instruct', 32, 4096, 32, 128256, '8.0B', { kvHeads: 8 }),
    known('meta-llama/Llama-2-7b-hf', 32, 4096, 32, 32000, '6.7B'),
    known('TinyLlama/TinyLlama-1.1B-Chat-v1.0', 22, 2048, 32, 32000, '1.1B', { kvHeads: 4 }),
  ],
  prefixes: ['model.', ''],
  spec: (cfg) => llamaLikeSpec(cfg, opts),
  weights: (spec, r, ckpt) => llamaLikeWeights(spec, r, ckpt, ckpt.config, opts),
};
