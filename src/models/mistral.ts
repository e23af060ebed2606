/** Mistral: Llama with a sliding attention window on every layer. */
import { int, uniformWindows } from './common.js';
import { llamaLikeSpec, llamaLikeWeights, type LlamaLikeOptions } from './llama.js';
import type { Architecture } from './types.js';

const opts: LlamaLikeOptions = {
  modelType: 'mistral',
  windows: (cfg, n) => uniformWindows(n, cfg.sliding_window == null ? null : int(cfg, 'sliding_window')),
};

export const mistral: Architecture = {
  modelTypes: ['mistral'],
  hfClasses: ['MistralForCausalLM'],
  features: ['as llama', 'sliding-window attention on every layer'],
  prefixes: ['model.', ''],
  spec: (cfg) => llamaLikeSpec(cfg, opts),
  weights: (spec, r, ckpt) => llamaLikeWeights(spec, r, ckpt, ckpt.config, opts),
};
