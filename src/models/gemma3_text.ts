/**
 * Gemma-3 text (Gemma3ForCausalLM, and the language model inside Gemma3ForConditionalGeneration):
 * Gemma-2's block plus RMSNorm (1 + w) on each head's q and k before rotary, sliding layers in a
 * pattern (every `sliding_window_pattern`-th layer is global) with their own rotary base
 * (rope_local_base_freq, unscaled) while global layers use rope_theta and rope_scaling.
 * Unlike Gemma-2, HF's Gemma-3 attention does not apply attn_logit_softcapping.
 */
import { defaultInvFreq, num, ropeFromConfig, str, known, type Config } from './common.js';
import { cfgOptionalBool, cfgOptionalNumber, cfgOptionalObject } from './config.js';
import { gemmaBaseSpec, gemmaWeights } from './gemma.js';
import { gemmaSoftcapSpec, gemmaWindows } from './gemma2.js';
import type { Architecture, RopeSpec } from './types.js';
import { UserError } from '../util/errors.js';

/** Gemma3TextConfig's defaults: multimodal configs omit the text keys that equal them. */
const TEXT_DEFAULTS: Config = {
  vocab_size: 262208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh',
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
  rope_theta: 1_000_000,
  query_pre_attn_scalar: 256,
  sliding_window: 4096,
  rope_local_base_freq: 10_000,
  sliding_window_pattern: 6,
  bos_token_id: 2,
  eos_token_id: 1,
};

/** The text model's config: config.json itself (gemma3_text) or its text_config (gemma3), over the defaults. */
export function gemma3TextConfig(cfg: Config): Config {
  let text: Config = cfg;
  if (cfg.model_type === 'gemma3') {
    const tc = cfgOptionalObject(cfg, 'text_config');
    if (!tc) throw new UserError('config.json: a gemma3 config needs a text_config object');
    text = { ...tc };
    const tied = cfgOptionalBool(cfg, 'tie_word_embeddings');
    if (text.tie_word_embeddings === undefined && tied !== undefined) text.tie_word_embeddings = tied;
  }
  const out: Config = { ...TEXT_DEFAULTS };
  for (const [k, v] of Object.entries(text)) if (v !== null && v !== undefined) out[k] = v;
  // keys whose null means "off" must stay null rather than fall back to a default
  for (const k of ['rope_scaling', 'final_logit_softcapping', 'attn_logit_softcapping']) out[k] = text[k] ?? null;
  return out;
}

/** Rotary for global and for sliding layers, from rope_parameters (newer configs) or the flat keys. */
function gemma3Ropes(cfg: Config, headDim: number): { global: RopeSpec; local: RopeSpec } {
  const rp = cfgOptionalObject(cfg, 'rope_parameters');
  const full = rp && cfgOptionalObject(rp, 'full_attention');
  const sliding = rp && cfgOptionalObject(rp, 'sliding_attention');
  if (full && sliding) {
    const fromParams = (p: Config): RopeSpec => {
      const type = str(p, 'rope_type', 'default');
      return ropeFromConfig({ ...cfg, rope_theta: cfgOptionalNumber(p, 'rope_theta'), rope_scaling: type === 'default' ? null : p }, headDim);
    };
    return { global: fromParams(full), local: fromParams(sliding) };
  }
  return {
    global: ropeFromConfig(cfg, headDim, ['rope_theta'], 1_000_000),
    local: { rotaryDim: headDim, invFreq: defaultInvFreq(num(cfg, 'rope_local_base_freq', 10_000), headDim) },
  };
}

export const gemma3_text: Architecture = {
  modelTypes: ['gemma3_text', 'gemma3'],
  hfClasses: ['Gemma3ForCausalLM', 'Gemma3ForConditionalGeneration (text part)'],
  features: [
    'as gemma2',
    'q/k RMSNorm (1 + w) per head',
    'sliding_window_pattern / layer_types',
    'local (rope_local_base_freq) and global (rope_theta, rope_scaling) rotary',
  ],
  checkpoints: [
    known('google/gemma-3-270m', 18, 640, 4, 262144, '270M', { kvHeads: 1 }),
    known('google/gemma-3-1b-it', 26, 1152, 4, 262144, '1.0B', { kvHeads: 1 }),
    known('google/gemma-3-4b-it', 34, 2560, 8, 262208, '4.3B', { kvHeads: 4, note: 'model_type gemma3 (multimodal; the text model is read)' }),
    known('google/gemma-3-12b-it', 48, 3840, 16, 262208, '12B', { kvHeads: 8, note: 'model_type gemma3 (multimodal; the text model is read)' }),
  ],
  prefixes: ['model.', 'language_model.model.', 'model.language_model.', 'language_model.', ''],
  spec(config) {
    const cfg = gemma3TextConfig(config);
    const spec = gemmaSoftcapSpec(cfg, gemmaBaseSpec(cfg, config.model_type === 'gemma3' ? 'gemma3' : 'gemma3_text'));
    const pattern = num(cfg, 'sliding_window_pattern', 6);
    spec.slidingWindow = gemmaWindows(cfg, spec.nLayers, (i) => (i + 1) % pattern !== 0, 4096);
    spec.qkNorm = { kind: 'rms', eps: spec.norm.eps };
    const { global, local } = gemma3Ropes(cfg, spec.headDim);
    spec.rope = spec.slidingWindow.map((w) => (w === null ? global : local));
    return spec;
  },
  weights: (spec, r, ckpt) => gemmaWeights(spec, r, ckpt, gemma3TextConfig(ckpt.config), { sandwich: true, qkNorm: true }),
};
