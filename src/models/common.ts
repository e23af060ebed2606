/** Helpers shared by the architecture files: weight sources, config reading, rotary frequencies. */
import type { Checkpoint, TensorResolver } from './checkpoint.js';
import type { TensorInfo } from './safetensors.js';
import type { Activation, BiasSpec, DecoderSpec, KnownCheckpoint, RopeSpec, WeightSource } from './types.js';
import { UserError } from '../util/errors.js';
import { cfgBool as bool, cfgInt as int, cfgNumber as num, cfgString as str, cfgOptionalNumber, cfgOptionalNumberList, cfgOptionalObject, cfgOptionalString } from './config.js';

export type Config = Record<string, unknown>;

// ------------------------------------------------------------------ config access

export { cfgNumber as num, cfgInt as int, cfgBool as bool, cfgString as str } from './config.js';

/** A BiasSpec with only the layers that have biases; undefined when none has. */
export function biases(b: BiasSpec): BiasSpec | undefined {
  const kept = Object.fromEntries(Object.entries(b).filter(([, v]) => v === true)) as BiasSpec;
  return Object.keys(kept).length ? kept : undefined;
}

/** Whether the spec declares a bias on these linear layers. */
export function hasBias(spec: Pick<DecoderSpec, 'bias'>, which: keyof BiasSpec): boolean {
  return spec.bias?.[which] === true;
}

/** bos/eos ids: a number, a list, or absent. */
export function tokenIds(cfg: Config, key: string): number[] {
  return cfgOptionalNumberList(cfg, key) ?? [];
}

export function activation(name: string, key = 'hidden_act'): Activation {
  switch (name) {
    case 'silu':
    case 'swish':
      return 'silu';
    case 'gelu':
      return 'gelu';
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_tanh':
      return 'gelu_tanh';
    case 'gelu_fast':
      return 'gelu_fast';
    case 'quick_gelu':
      return 'gelu_quick';
    case 'relu':
      return 'relu';
    default:
      throw new UserError(`config.json: activation '${key}' = '${name}' is not supported (supported: silu, gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, quick_gelu, relu)`);
  }
}

// ------------------------------------------------------------------ weights

export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  const B = 64; // blocked for cache locality on large matrices
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[base + c];
      }
    }
  }
  return out;
}

/**
 * Blocks of rows of a row-major [rows, cols] PyTorch weight, concatenated and transposed to
 * [cols, Σ count]: splits fused projections (q|k|v, gate|up, per-head interleavings) into
 * canonical [in, out] weights. Blocks are [firstRow, rowCount].
 */
export function rowBlocksTransposed(src: Float32Array, cols: number, blocks: [number, number][]): Float32Array {
  const total = blocks.reduce((a, [, n]) => a + n, 0);
  const out = new Float32Array(cols * total);
  let o = 0;
  for (const [from, count] of blocks) {
    for (let r = 0; r < count; r++, o++) {
      const base = (from + r) * cols;
      for (let c = 0; c < cols; c++) out[c * total + o] = src[base + c];
    }
  }
  return out;
}

/** Blocks that follow each other without a gap, as one [first, count]; undefined when they do not. */
function contiguous(blocks: [number, number][]): [number, number] | undefined {
  let end = blocks[0][0];
  for (const [from, count] of blocks) {
    if (from !== end) return undefined;
    end += count;
  }
  return [blocks[0][0], end - blocks[0][0]];
}

/** The same blocks of a 1-D tensor (a fused bias), concatenated. */
export function blocksOf(src: Float32Array, blocks: [number, number][]): Float32Array {
  const out = new Float32Array(blocks.reduce((a, [, n]) => a + n, 0));
  let o = 0;
  for (const [from, count] of blocks) {
    out.set(src.subarray(from, from + count), o);
    o += count;
  }
  return out;
}

/** Shape of a tensor found under the resolver's prefixes (UserError naming it when absent). */
export function shapeOf(r: TensorResolver, ckpt: Checkpoint, name: string): number[] {
  const full = r.resolve(name);
  if (full === undefined) {
    r.get(name); // throws the resolver's error naming the tensor and the prefixes tried
  }
  return ckpt.tensors.get(full!)!.shape;
}

function expectShape(name: string, shape: number[], expected: number[], dir: string): void {
  if (shape.length !== expected.length || shape.some((v, i) => v !== expected[i])) {
    throw new UserError(`tensor ${name} in ${dir} has shape [${shape.join(', ')}], expected [${expected.join(', ')}] from config.json`);
  }
}

/** Builds WeightSources for one checkpoint, with shape checks against what config.json implies. */
export class WeightList {
  readonly items: WeightSource[] = [];
  constructor(
    readonly r: TensorResolver,
    readonly ckpt: Checkpoint,
  ) {}

  has(name: string): boolean {
    return this.r.resolve(name) !== undefined;
  }

  /** Check a tensor's shape without exporting it (fused tensors that are split on load). */
  expect(hf: string, expected: number[]): void {
    expectShape(hf, shapeOf(this.r, this.ckpt, hf), expected, this.ckpt.dir);
  }

  /** A norm's weight and bias, both of `shape` (LayerNorm checkpoints keep them in pairs). */
  normPair(canon: string, hf: string, shape: number[]): void {
    this.plain(`${canon}.weight`, `${hf}.weight`, shape);
    this.plain(`${canon}.bias`, `${hf}.bias`, shape);
  }

  /** The checkpoint's record of a tensor (found under the resolver's prefixes). */
  private info(hf: string): TensorInfo {
    shapeOf(this.r, this.ckpt, hf); // throws naming the tensor when absent
    return this.ckpt.tensors.get(this.r.resolve(hf)!)!;
  }

  /** A tensor as stored ([rows, …] kept), e.g. norms, embeddings, lm_head. */
  plain(canon: string, hf: string, expected?: number[]): void {
    const shape = shapeOf(this.r, this.ckpt, hf);
    if (expected) expectShape(hf, shape, expected, this.ckpt.dir);
    this.items.push({ name: canon, dims: shape, load: () => this.r.get(hf), stored: { info: this.info(hf), transposed: false } });
  }

  /** A PyTorch Linear weight [out, in], exported as [in, out] (the checkpoint's bytes are its transpose). */
  linear(canon: string, hf: string, out: number, inp: number): void {
    const shape = shapeOf(this.r, this.ckpt, hf);
    expectShape(hf, shape, [out, inp], this.ckpt.dir);
    this.items.push({ name: canon, dims: [inp, out], load: () => transpose2d(this.r.get(hf), out, inp), stored: { info: this.info(hf), transposed: true } });
  }

  /**
   * Blocks of rows of a fused PyTorch Linear weight `hf` [rows, cols] (rowBlocksTransposed), exported
   * as one [cols, Σ count] weight; blocks that are one contiguous range are readable in place.
   */
  rowBlocks(canon: string, hf: string, cols: number, blocks: [number, number][]): void {
    const range = contiguous(blocks);
    const total = blocks.reduce((a, [, n]) => a + n, 0);
    this.items.push({
      name: canon,
      dims: [cols, total],
      load: () => rowBlocksTransposed(this.r.get(hf), cols, blocks),
      ...(range ? { stored: { info: this.info(hf), transposed: true, rows: range } } : {}),
    });
  }

  /** The same blocks of a fused bias `hf` (blocksOf). */
  biasBlocks(canon: string, hf: string, blocks: [number, number][]): void {
    const range = contiguous(blocks);
    this.items.push({
      name: canon,
      dims: [blocks.reduce((a, [, n]) => a + n, 0)],
      load: () => blocksOf(this.r.get(hf), blocks),
      ...(range ? { stored: { info: this.info(hf), transposed: false, rows: range } } : {}),
    });
  }

  /**
   * A PyTorch Linear module: `${hf}.weight` [out, in] exported transposed as `${canon}.weight`
   * [in, out], and `${hf}.bias` [out] as `${canon}.bias` when the module has one.
   */
  linearModule(canon: string, hf: string, out: number, inp: number, bias: boolean): void {
    this.linear(`${canon}.weight`, `${hf}.weight`, out, inp);
    if (bias) this.plain(`${canon}.bias`, `${hf}.bias`, [out]);
  }

  /** A GPT-2 Conv1D weight, already [in, out]. */
  conv1d(canon: string, hf: string, inp: number, out: number): void {
    this.plain(canon, hf, [inp, out]);
  }

  /** A derived weight (split of a fused tensor, folded norm, …). */
  derived(canon: string, dims: number[], load: () => Float32Array): void {
    this.items.push({ name: canon, dims, load });
  }

  /**
   * Token embeddings and unembedding. Tied checkpoints may keep only the embedding or only
   * `lm_head.weight`; the embedding is exported as `embed.weight` either way, and an untied
   * unembedding as `lm_head.weight` [V, d].
   */
  embeddings(spec: { tiedEmbeddings: boolean; dModel: number }, embedNames: string[], headNames: string[]): number {
    const embed = embedNames.find((n) => this.has(n));
    const head = headNames.find((n) => this.has(n));
    if (spec.tiedEmbeddings) {
      const src = embed ?? head;
      if (!src) this.r.get(embedNames[0]);
      const shape = shapeOf(this.r, this.ckpt, src!);
      this.plain('embed.weight', src!, [shape[0], spec.dModel]);
      return shape[0];
    }
    if (!embed) this.r.get(embedNames[0]);
    if (!head) this.r.get(headNames[0]);
    const es = shapeOf(this.r, this.ckpt, embed!);
    this.plain('embed.weight', embed!, [es[0], spec.dModel]);
    const hs = shapeOf(this.r, this.ckpt, head!);
    this.plain('lm_head.weight', head!, [hs[0], spec.dModel]);
    return hs[0];
  }
}

// ------------------------------------------------------------------ rotary

/** inv_freq[i] = 1 / base^(2i/dim), rounded to float32 as the reference computes it. */
export function defaultInvFreq(base: number, dim: number): Float32Array {
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = 1 / Math.pow(base, Math.fround((2 * i) / dim));
  return out;
}

/**
 * Rotary spec from the usual config keys: rope_theta, rope_scaling ({rope_type|type: default,
 * linear, dynamic, llama3}); the rotary dimension is given by the caller (partial rotary).
 */
export function ropeFromConfig(cfg: Config, rotaryDim: number, baseKeys: string[] = ['rope_theta'], baseDefault = 10000): RopeSpec {
  if (rotaryDim % 2 !== 0 || rotaryDim <= 0) throw new UserError(`config.json: the rotary dimension ${rotaryDim} must be a positive even number`);
  const base = num(cfg, baseKeys, baseDefault);
  const inv = defaultInvFreq(base, rotaryDim);
  const rs = cfgOptionalObject(cfg, 'rope_scaling');
  if (!rs) return { rotaryDim, invFreq: inv };
  const type = cfgOptionalString(rs, ['rope_type', 'type']) ?? 'default';
  const factor = num(rs, 'factor', 1);
  switch (type) {
    case 'default':
      return { rotaryDim, invFreq: inv };
    case 'linear':
      return { rotaryDim, invFreq: inv.map((f) => f / factor) };
    case 'dynamic':
      return {
        rotaryDim,
        invFreq: inv,
        dynamic: { base, factor, maxPositions: num(cfg, ['max_position_embeddings']) },
      };
    case 'llama3': {
      const low = num(rs, 'low_freq_factor', 1);
      const high = num(rs, 'high_freq_factor', 4);
      const oldCtx = num(rs, 'original_max_position_embeddings', 8192);
      const lowWavelen = oldCtx / low;
      const highWavelen = oldCtx / high;
      const out = new Float32Array(inv.length);
      for (let i = 0; i < inv.length; i++) {
        const f = inv[i];
        const wavelen = (2 * Math.PI) / f;
        let v = wavelen > lowWavelen ? f / factor : f;
        if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
          const smooth = (oldCtx / wavelen - low) / (high - low);
          v = (1 - smooth) * (v / factor) + smooth * v;
        }
        out[i] = v;
      }
      return { rotaryDim, invFreq: out };
    }
    case 'longrope':
    case 'su': {
      // Phi-3: per-frequency divisors, short below the original context and long beyond it
      const half = rotaryDim / 2;
      const factors = (key: string): number[] => {
        const v = cfgOptionalNumberList(rs, key);
        if (!v || v.length !== half) throw new UserError(`config.json: rope_scaling.${key} must be a list of ${half} numbers for longrope`);
        return v;
      };
      const maxPos = num(cfg, ['max_position_embeddings']);
      // Phi-3 keeps original_max_position_embeddings at the top level, newer configs in rope_scaling
      const topOrig = cfgOptionalNumber(cfg, 'original_max_position_embeddings');
      const origMax = topOrig ?? cfgOptionalNumber(rs, 'original_max_position_embeddings') ?? maxPos;
      const scale = topOrig !== undefined ? maxPos / origMax : factor;
      const attentionFactor = cfgOptionalNumber(rs, 'attention_factor') ?? (scale <= 1 ? 1 : Math.sqrt(1 + Math.log(scale) / Math.log(origMax)));
      const scaled = (ext: number[]): Float32Array => {
        const out = new Float32Array(half);
        for (let i = 0; i < half; i++) out[i] = 1 / (Math.fround(ext[i]) * Math.fround(Math.pow(base, Math.fround((2 * i) / rotaryDim))));
        return out;
      };
      return { rotaryDim, invFreq: scaled(factors('short_factor')), attentionFactor, long: { invFreq: scaled(factors('long_factor')), originalMaxPositions: origMax } };
    }
    default:
      throw new UserError(`config.json: rope_scaling type '${type}' is not supported (supported: default, linear, dynamic, llama3, longrope)`);
  }
}

/** A spec's fields an architecture states itself; the rest comes from baseSpec's reading of config.json. */
export type SpecOverrides = Partial<DecoderSpec> & Pick<DecoderSpec, 'modelType'>;

/**
 * The spec most architectures share, read from config.json under the keys Llama uses —
 * hidden_size, num_attention_heads, num_key_value_heads, head_dim, num_hidden_layers, vocab_size,
 * max_position_embeddings (default 2048), rms_norm_eps (RMSNorm, default 1e-6), rotary from
 * rope_theta / rope_scaling over partial_rotary_factor of each head, 1/√head_dim scores, no
 * sliding window, a gated MLP of hidden_act (default silu), sequential residual,
 * tie_word_embeddings (default false), bos/eos ids — with `overrides` on top. A field given in
 * `overrides` (even as undefined) is not read from config.json at all, so an architecture states
 * only what differs, and its own key names.
 */
export function baseSpec(cfg: Config, overrides: SpecOverrides): DecoderSpec {
  const o = overrides;
  const pick = <K extends keyof DecoderSpec>(key: K, read: () => DecoderSpec[K]): DecoderSpec[K] => (key in o ? (o[key] as DecoderSpec[K]) : read());
  const dModel = pick('dModel', () => int(cfg, 'hidden_size'));
  const nHeads = pick('nHeads', () => int(cfg, 'num_attention_heads'));
  const nLayers = pick('nLayers', () => int(cfg, 'num_hidden_layers'));
  const headDim = pick('headDim', () => int(cfg, 'head_dim', dModel / nHeads));
  const positions = pick('positions', () => 'rope');
  return {
    ...o,
    modelType: o.modelType,
    nLayers,
    dModel,
    nHeads,
    nKvHeads: pick('nKvHeads', () => int(cfg, 'num_key_value_heads', nHeads)),
    headDim,
    vocabSize: pick('vocabSize', () => int(cfg, 'vocab_size')),
    maxPositions: pick('maxPositions', () => int(cfg, 'max_position_embeddings', 2048)),
    norm: pick('norm', () => ({ kind: 'rms', eps: num(cfg, 'rms_norm_eps', 1e-6) })),
    positions,
    rope: pick('rope', () => (positions === 'rope' ? ropeFromConfig(cfg, Math.floor(headDim * num(cfg, 'partial_rotary_factor', 1))) : undefined)),
    attnScale: pick('attnScale', () => 1 / Math.sqrt(headDim)),
    slidingWindow: pick('slidingWindow', () => uniformWindows(nLayers, null)),
    mlp: pick('mlp', () => ({ gated: true, act: activation(str(cfg, 'hidden_act', 'silu')) })),
    residual: pick('residual', () => 'sequential'),
    tiedEmbeddings: pick('tiedEmbeddings', () => bool(cfg, 'tie_word_embeddings', false)),
    bosTokenId: pick('bosTokenId', () => tokenIds(cfg, 'bos_token_id')[0]),
    eosTokenIds: pick('eosTokenIds', () => tokenIds(cfg, 'eos_token_id')),
  };
}

/** Sliding windows for every layer: the same window everywhere, or none. */
export function uniformWindows(nLayers: number, window: number | null): (number | null)[] {
  return Array.from({ length: nLayers }, () => window);
}

export function checkHeads(spec: Pick<DecoderSpec, 'nHeads' | 'nKvHeads' | 'dModel' | 'headDim'>): void {
  if (spec.nHeads % spec.nKvHeads !== 0) {
    throw new UserError(`config.json: num_attention_heads (${spec.nHeads}) must be a multiple of num_key_value_heads (${spec.nKvHeads})`);
  }
}

/** A KnownCheckpoint row, compactly: hub id, layers, d_model, heads, vocab, parameters. */
export function known(hubId: string, layers: number, dModel: number, heads: number, vocab: number, params: string, extra: { kvHeads?: number; note?: string } = {}): KnownCheckpoint {
  return { hubId, layers, dModel, heads, ...(extra.kvHeads !== undefined ? { kvHeads: extra.kvHeads } : {}), vocab, params, ...(extra.note ? { note: extra.note } : {}) };
}
