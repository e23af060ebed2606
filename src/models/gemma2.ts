/**
 * Gemma-2 (Gemma2ForCausalLM): Gemma plus norms after attention and after the MLP, attention and
 * final-logit tanh soft-capping (the final one applies to every lens layer too), sliding-window
 * attention on every other layer starting with layer 0, and scores scaled by query_pre_attn_scalar^-½.
 */
import { int, num, known, type Config } from './common.js';
import { cfgOptionalArray, cfgOptionalNumber } from './config.js';
import { gemmaBaseSpec, gemmaWeights } from './gemma.js';
import type { Architecture, DecoderSpec } from './types.js';
import { UserError } from '../util/errors.js';

/**
 * Which layers slide: config.layer_types when present (newer configs), else `isSliding(i)`. The
 * window is `sliding_window` (HF: key j is visible to query i when i − window < j ≤ i).
 */
export function gemmaWindows(cfg: Config, n: number, isSliding: (i: number) => boolean, dflt: number): (number | null)[] {
  const window = int(cfg, 'sliding_window', dflt);
  const types = cfgOptionalArray(cfg, 'layer_types');
  if (types) {
    if (types.length !== n) throw new UserError(`config.json: layer_types has ${types.length} entries, expected num_hidden_layers = ${n}`);
    return types.map((t) => (t === 'sliding_attention' ? window : null));
  }
  return Array.from({ length: n }, (_, i) => (isSliding(i) ? window : null));
}

/** Gemma-2/3 settings on top of the Gemma base spec. */
export function gemmaSoftcapSpec(cfg: Config, spec: DecoderSpec): DecoderSpec {
  spec.attnScale = 1 / Math.sqrt(num(cfg, 'query_pre_attn_scalar', 256));
  spec.sandwichNorms = true;
  const finalCap = cfgOptionalNumber(cfg, 'final_logit_softcapping');
  if (finalCap !== undefined) spec.finalSoftcap = finalCap;
  return spec;
}

export const gemma2: Architecture = {
  modelTypes: ['gemma2'],
  hfClasses: ['Gemma2ForCausalLM'],
  features: [
    'as gemma',
    'post-attention and pre/post-feedforward RMSNorms (1 + w)',
    'attention soft-capping (attn_logit_softcapping)',
    'final-logit soft-capping, in the lens too',
    'sliding window on even layers',
    'query_pre_attn_scalar',
  ],
  checkpoints: [
    known('google/gemma-2-2b-it', 26, 2304, 8, 256000, '2.6B', { kvHeads: 4 }),
    known('google/gemma-2-9b-it', 42, 3584, 16, 256000, '9.2B', { kvHeads: 8 }),
    known('google/gemma-2-27b-it', 46, 4608, 32, 256000, '27B', { kvHeads: 16 }),
  ],
  prefixes: ['model.', ''],
  spec(cfg) {
    const spec = gemmaSoftcapSpec(cfg, gemmaBaseSpec(cfg, 'gemma2'));
    const attnCap = cfgOptionalNumber(cfg, 'attn_logit_softcapping');
    if (attnCap !== undefined) spec.attnSoftcap = attnCap;
    spec.slidingWindow = gemmaWindows(cfg, spec.nLayers, (i) => i % 2 === 0, 4096);
    return spec;
  },
  weights: (spec, r, ckpt) => gemmaWeights(spec, r, ckpt, ckpt.config, { sandwich: true }),
};
