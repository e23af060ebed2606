/** Mistral: Llama with a sliding attention window on every layer. */
import { uniformWindows, known } from './common.js';
import { llamaLikeSpec, llamaLikeWeights, type LlamaLikeOptions } from './llama.js';
import { cfgOptionalInt } from './config.js';
import type { Architecture } from './types.js';

const opts: LlamaLikeOptions = {
  modelType: 'mistral',
  windows: (cfg, n) => uniformWindows(n, cfgOptionalInt(cfg, 'sliding_window') ?? null),
};

export const mistral: Architecture = {
  modelTypes: ['mistral'],
  hfClasses: ['MistralForCausalLM'],
  features: ['as llama', 'sliding-window attention on every layer'],
  checkpoints: [
    known('mistralai/Mistral-7B-v0.1', 32, 4096, 32, 32000, '7.2B', { kvHeads: 8, note: 'sliding window 4096' }),
    known('mistralai/Mistral-7B-Instruct-v0.2', 32, 4096, 32, 32000, '7.2B', { kvHeads: 8, note: 'no sliding window, rope_theta 1e6' }),
  ],
  prefixes: ['model.', ''],
  spec: (cfg) => llamaLikeSpec(cfg, opts),
  weights: (spec, r, ckpt) => llamaLikeWeights(spec, r, ckpt, ckpt.config, opts),
};
