/** Qwen3: Llama with RMSNorm on each head's queries and keys (before rotary), explicit head_dim. */
import { known } from './common.js';
import { llamaLikeSpec, llamaLikeWeights, type LlamaLikeOptions } from './llama.js';
import { qwenWindows } from './qwen2.js';
import type { Architecture } from './types.js';

const opts: LlamaLikeOptions = { modelType: 'qwen3', qkNorm: true, windows: qwenWindows };

export const qwen3: Architecture = {
  modelTypes: ['qwen3'],
  hfClasses: ['Qwen3ForCausalLM'],
  features: ['as llama', 'q/k RMSNorm per head', 'head_dim ≠ hidden/heads', 'attention_bias'],
  checkpoints: [
    known('Qwen/Qwen3-0.6B', 28, 1024, 16, 151936, '0.6B', { kvHeads: 8 }),
    known('Qwen/Qwen3-1.7B', 28, 2048, 16, 151936, '1.7B', { kvHeads: 8 }),
    known('Qwen/Qwen3-4B', 36, 2560, 32, 151936, '4.0B', { kvHeads: 8 }),
    known('Qwen/Qwen3-8B', 36, 4096, 32, 151936, '8.2B', { kvHeads: 8 }),
  ],
  prefixes: ['model.', ''],
  spec: (cfg) => llamaLikeSpec(cfg, opts),
  weights: (spec, r, ckpt) => llamaLikeWeights(spec, r, ckpt, ckpt.config, opts),
};
