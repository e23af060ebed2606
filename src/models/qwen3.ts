/** Qwen3: Llama with RMSNorm on each head's queries and keys (before rotary), explicit head_dim. */
import { llamaLikeSpec, llamaLikeWeights, type LlamaLikeOptions } from './llama.js';
import { qwenWindows } from './qwen2.js';
import type { Architecture } from './types.js';

const opts: LlamaLikeOptions = { modelType: 'qwen3', qkNorm: true, windows: qwenWindows };

export const qwen3: Architecture = {
  modelTypes: ['qwen3'],
  hfClasses: ['Qwen3ForCausalLM'],
  features: ['as llama', 'q/k RMSNorm per head', 'head_dim ≠ hidden/heads', 'attention_bias'],
  prefixes: ['model.', ''],
  spec: (cfg) => llamaLikeSpec(cfg, opts),
  weights: (spec, r, ckpt) => llamaLikeWeights(spec, r, ckpt, ckpt.config, opts),
};
