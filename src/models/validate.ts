/**
 * Checks of a checkpoint against its config, before anything is built: the layer count against the
 * blocks the checkpoint holds (read from the tensor names, so a config saying 1e9 layers is refused
 * before any per-layer array is made), the spec's numbers (positive sizes, positive finite eps and
 * rotary bases, …), and the dtypes of the tensors the graph reads (integers mean a quantised
 * checkpoint, which these float graphs cannot take).
 */
import { UserError } from '../util/errors.js';
import type { Checkpoint } from './checkpoint.js';
import type { DecoderSpec, NormSpec, RopeSpec } from './types.js';

/** Config keys that give the number of decoder blocks, across the supported architectures. */
const LAYER_KEYS = ['num_hidden_layers', 'n_layer', 'num_layers'];
/** The block index in a tensor name: `model.layers.3.`, `transformer.h.3.`, `gpt_neox.layers.3.`, `model.decoder.layers.3.`. */
const BLOCK_RE = /(?:^|\.)(?:layers|h|blocks)\.(\d+)\./;

/** The number of decoder blocks whose tensors the checkpoint holds (highest index + 1), or undefined if none match. */
export function checkpointBlocks(ckpt: Pick<Checkpoint, 'tensors'>): number | undefined {
  let top = -1;
  for (const name of ckpt.tensors.keys()) {
    const m = BLOCK_RE.exec(name);
    if (m) top = Math.max(top, Number(m[1]));
  }
  return top >= 0 ? top + 1 : undefined;
}

/**
 * The config's layer count must be a positive integer equal to the blocks present. Runs on the raw
 * config, before the architecture builds anything per layer.
 */
export function checkLayerCount(ckpt: Pick<Checkpoint, 'tensors' | 'config'>, configFile: string): void {
  const key = LAYER_KEYS.find((k) => ckpt.config[k] !== undefined && ckpt.config[k] !== null);
  if (key === undefined) return; // the architecture says which key it needs
  const n = ckpt.config[key];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new UserError(`${configFile}: '${key}' is ${JSON.stringify(n)}; a model needs a positive whole number of layers — fix config.json`);
  }
  const blocks = checkpointBlocks(ckpt);
  if (blocks !== undefined && n !== blocks) {
    throw new UserError(
      `${configFile}: '${key}' is ${n}, but the checkpoint's weights hold ${blocks} decoder block${blocks === 1 ? '' : 's'} (0 … ${blocks - 1}); ` +
        'config.json and the weights do not belong together — use the config.json saved with these weights',
    );
  }
}

function positiveInt(v: number, what: string, file: string, max = 2 ** 31 - 1): void {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new UserError(`${file}: ${what} is ${v}; it must be a positive whole number${max < 2 ** 31 - 1 ? ` up to ${max}` : ''} — fix config.json`);
}

function positiveFinite(v: number | undefined, what: string, file: string): void {
  if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new UserError(`${file}: ${what} is ${v}; it must be a positive finite number — fix config.json`);
}

function checkNorm(n: NormSpec | undefined, what: string, file: string): void {
  if (n) positiveFinite(n.eps, `the ${what} epsilon`, file);
}

function checkRope(r: RopeSpec, file: string): void {
  if (!r.invFreq.every((f) => Number.isFinite(f) && f > 0) || (r.long && !r.long.invFreq.every((f) => Number.isFinite(f) && f > 0))) {
    throw new UserError(`${file}: the rotary frequencies are not positive finite numbers (check 'rope_theta' and 'rope_scaling': the base must be > 0 and the factors positive) — fix config.json`);
  }
  if (r.dynamic) positiveFinite(r.dynamic.base, "the rotary base ('rope_theta')", file);
  positiveFinite(r.attentionFactor, 'the rotary attention factor', file);
}

/** The spec's numbers, as the graph needs them: sizes positive, epsilons and bases positive and finite. */
export function validateSpec(spec: DecoderSpec, file: string): void {
  positiveInt(spec.nLayers, 'the number of layers', file);
  positiveInt(spec.dModel, 'the hidden size', file, 1 << 20);
  positiveInt(spec.nHeads, 'the number of attention heads', file, 1 << 16);
  positiveInt(spec.nKvHeads, 'the number of key/value heads', file, 1 << 16);
  positiveInt(spec.headDim, 'the head size', file, 1 << 16);
  positiveInt(spec.vocabSize, 'the vocabulary size', file);
  positiveInt(spec.maxPositions, "the context length ('max_position_embeddings')", file);
  checkNorm(spec.norm, 'norm', file);
  checkNorm(spec.qkNorm, 'q/k norm', file);
  for (const r of Array.isArray(spec.rope) ? spec.rope : spec.rope ? [spec.rope] : []) if (r) checkRope(r, file);
  for (const s of Array.isArray(spec.attnScale) ? spec.attnScale : [spec.attnScale]) positiveFinite(s, 'the attention scale', file);
  positiveFinite(spec.attnSoftcap, "the attention soft-cap ('attn_logit_softcapping')", file);
  positiveFinite(spec.finalSoftcap, "the final soft-cap ('final_logit_softcapping')", file);
  positiveFinite(spec.embedScale, 'the embedding multiplier', file);
  positiveFinite(spec.residualScale, "the residual multiplier ('residual_multiplier')", file);
  positiveFinite(spec.logitDivisor, "the logit divisor ('logits_scaling')", file);
  if (spec.alibi && !spec.alibi.slopes.every(Number.isFinite)) throw new UserError(`${file}: the ALiBi slopes are not finite — fix config.json`);
  for (const w of spec.slidingWindow) {
    if (w !== null && !(Number.isInteger(w) && w >= 1)) throw new UserError(`${file}: a sliding window of ${w} tokens; it must be a positive whole number — fix config.json`);
  }
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Every tensor the graph reads must hold floats. Integer tensors are a quantised checkpoint (GPTQ,
 * AWQ, bitsandbytes …) whose numbers mean nothing without their scales; read as floats they would
 * give plausible-looking nonsense.
 */
export function checkWeightDtypes(ckpt: Pick<Checkpoint, 'tensors' | 'config' | 'dir'>, tensorsRead: Iterable<string>): void {
  for (const name of tensorsRead) {
    const t = ckpt.tensors.get(name);
    if (!t || FLOAT_DTYPES.has(t.dtype)) continue;
    const q = ckpt.config.quantization_config;
    const method = q && typeof q === 'object' ? (q as Record<string, unknown>).quant_method : undefined;
    throw new UserError(
      `tensor ${name} in ${ckpt.dir} holds ${t.dtype} values where the model needs floating-point weights` +
        (method !== undefined ? `: the checkpoint is quantised ('quantization_config.quant_method' is ${JSON.stringify(method)}),` : ' (a quantised checkpoint?);') +
        ' entropylens reads float32, float16 and bfloat16 checkpoints — use the unquantised model',
    );
  }
}
