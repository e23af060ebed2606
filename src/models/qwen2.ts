/** Qwen2: Llama with q/k/v biases; sliding windows only when use_sliding_window is set. */
import { bool, int, known, type Config } from './common.js';
import { llamaLikeSpec, llamaLikeWeights, type LlamaLikeOptions } from './llama.js';
import { cfgOptionalInt } from './config.js';
import type { Architecture } from './types.js';

/**
 * Qwen2/Qwen3 windows: with use_sliding_window, layers from max_window_layers on use
 * sliding_window; the others (and all layers without it) attend globally.
 */
export function qwenWindows(cfg: Config, n: number): (number | null)[] {
  const use = bool(cfg, 'use_sliding_window', false);
  const window = cfgOptionalInt(cfg, 'sliding_window') ?? null;
  const from = int(cfg, 'max_window_layers', n);
  return Array.from({ length: n }, (_, i) => (use && window !== null && i >= from ? window : null));
}

const opts: LlamaLikeOptions = { modelType: 'qwen2', qkvBias: true, windows: qwenWindows };

export const qwen2: Architecture = {
  modelTypes: ['qwen2'],
  hfClasses: ['Qwen2ForCausalLM'],
  features: ['as llama', 'q/k/v biases', 'use_sliding_window / max_window_layers'],
  checkpoints: [
    known('Qwen/Qwen2.5-0.5B', 24, 896, 14, 151936, '0.5B', { kvHeads: 2 }),
    known('Qwen/Qwen2.5-1.5B', 28, 1536, 12, 151936, '1.5B', { kvHeads: 2 }),
    known('Qwen/Qwen2.5-3B', 36, 2048, 16, 151936, '3.1B', { kvHeads: 2 }),
    known('Qwen/Qwen2.5-7B', 28, 3584, 28, 152064, '7.6B', { kvHeads: 4 }),
  ],
  prefixes: ['model.', ''],
  spec: (cfg) => llamaLikeSpec(cfg, opts),
  weights: (spec, r, ckpt) => llamaLikeWeights(spec, r, ckpt, ckpt.config, opts),
};
