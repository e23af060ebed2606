/**
 * The options of profile() and prepare(): their defaults, their checks (a UserError naming the
 * option and saying what to give), and the graph's lens options they determine.
 */
import type { WeightDtype } from '../graph/external.js';
import type { Intervention, LensOptions } from '../graph/lens-options.js';
import { metricAliases, needsAnchors, parseMetrics, type Metric } from '../graph/metric-names.js';
import type { DecoderSpec } from '../models/types.js';
import { UserError } from '../util/errors.js';

/** Which positions the lens reads: the last (each generated step), the prompt's, or both. */
export type LensPositions = 'last' | 'prompt' | 'all';

export interface ProfileOptions {
  /** Tokens to generate (default 8; with positions 'prompt' default 0, nothing generated). */
  maxNewTokens?: number;
  /** 0 = greedy (default). */
  temperature?: number;
  seed?: number;
  /** Metric names (`shannon`, `renyi:0.5`, …) or parsed metrics; default shannon. */
  metrics?: string | string[] | Metric[];
  /** Average the steps in W consecutive windows (W must divide maxNewTokens). */
  windows?: number;
  topK?: number;
  batchSize?: number;
  /** Stop a prompt's generation after it produces an EOS token. */
  stopAtEos?: boolean;
  /** Prepend the tokenizer's BOS to text prompts (PROTOCOL §1); default true. */
  bos?: boolean;
  anchorIds?: number[];
  interventions?: Intervention[];
  /**
   * Batch prompts of similar length together (default true); results are yielded in input order
   * either way, as soon as all earlier prompts are done.
   */
  sortByLength?: boolean;
  /**
   * Prompt tokens per prefill run (default 192): a batch's prefill runs in chunks of whole rows when
   * several fit, else in spans of one prompt, so its activations and the cache entries it returns
   * stay small; decode steps always run the whole batch. GPT-2 small, 24 prompts of 120–140 tokens
   * at batch 8, 8 tokens (one row per prefill run): 6.6–7.3 s, peak RSS 704–707 MB; with 512
   * (several rows per run) 7.1–7.4 s, 816–821 MB; with 1200 (all 8 rows in one run, so the first
   * step's lens is one batched product) 7.5–8.4 s, 944–948 MB — no faster, so not the default.
   */
  prefillTokens?: number;
  /**
   * The lens head's layer groups (see LensOptions.layerGroups; 0 or 1 = one group). Default: about
   * 32 rows (batch size × layers) per group, so batch 8 on a 12-layer model runs 3 groups of 4
   * layers and batch 1 one group. The graph depends on it: profile() calls with another batch size
   * (or metrics) than the last build a new graph and session.
   */
  lensGroups?: number;
  /**
   * 'last' (default): the lens at each generated step. 'prompt': also at every prompt position
   * (ProfileResult.positions, with the rank and probability of each next prompt token), generating
   * nothing unless maxNewTokens says so. 'all': the prompt positions and the generated steps
   * (maxNewTokens default 8).
   */
  positions?: LensPositions;
  /** Prompt tokens per prefill run with positions (default: about 64 lens rows per unembedding Gemm). */
  positionTokens?: number;
  /** Lens the input of block 0 (the embeddings, scaled and with learned positions where the model adds them) as a first layer. */
  lensEmbeddings?: boolean;
  /**
   * A token the lens reports on at every step and layer (log-probability and rank): a token id, or a
   * text whose first token is taken (e.g. " Paris"). For every prompt; a prompt's own `target` wins.
   */
  target?: string | number;
  /** Prompts carry their own `target` (PromptInput.target); needed when no `target` is given for all. */
  targets?: boolean;
  /** Called after each batch: prompts done, and the total when the prompts came as an array. */
  onProgress?: (done: number, total: number | undefined) => void;
  /** Prompts read, tokenized and sorted by length at a time (default max(512, 32 batches)): memory is flat in the prompt count. */
  promptWindow?: number;
}

const DEFAULT_METRICS = 'shannon';
/** Largest |factor| of a scale intervention (see lensSettings). */
const MAX_SCALE = 1e6;
/**
 * Lens rows (batch × layers) per unembedding Gemm. Below ~30 rows the Gemm is bound by reading the
 * unembedding (GPT-2 small, this machine: 12 rows 7 ms, 96 rows 23 ms), so smaller groups would cost
 * time; larger ones only cost memory.
 */
const LENS_ROWS_PER_GROUP = 32;
/**
 * Lens rows per unembedding Gemm in a positions prefill run (positions × layers of a group): large
 * enough to be compute-bound, small enough that the vocabulary-sized buffers stay a few tens of MB.
 */
const POSITION_ROWS_PER_GROUP = 64;

/** What the graph depends on: the lens options, and the parsed metrics, top-k and batch size. */
export interface LensSettings {
  lens: LensOptions;
  metrics: Metric[];
  /** Requested spellings that name a computed metric another way (`renyi:1` → `shannon`): results carry both keys. */
  aliases: Record<string, string>;
  topK: number;
  batchSize: number;
  /** Layers in every lens result: the blocks, plus one with lensEmbeddings. */
  lensLayers: number;
  /** The lens reads every prompt position (positions 'prompt' or 'all'). */
  positions: boolean;
  /** The graph's query columns: the next prompt token (with positions), the target (with targets). */
  queries: { next: boolean; target: boolean };
}

/** Check the lens-related options of a profile call and turn them into the graph's lens options. */
export function lensSettings(opts: ProfileOptions, spec: Pick<DecoderSpec, 'vocabSize' | 'nLayers' | 'dModel'>): LensSettings {
  const requested = Array.isArray(opts.metrics) && typeof opts.metrics[0] === 'object' ? undefined : ((opts.metrics as string | string[] | undefined) ?? DEFAULT_METRICS);
  const metrics = requested === undefined ? (opts.metrics as Metric[]) : parseMetrics(requested);
  const aliases = requested === undefined ? {} : metricAliases(requested);
  const anchorIds = opts.anchorIds ? [...new Set(opts.anchorIds)].sort((a, b) => a - b) : undefined;
  if (needsAnchors(metrics) && (!anchorIds || anchorIds.length === 0)) {
    throw new UserError('anchored metrics need anchor tokens: give --anchors "A,B,C" or --anchor-ids 3,7,11');
  }
  for (const id of anchorIds ?? []) {
    if (!Number.isInteger(id) || id < 0 || id >= spec.vocabSize) throw new UserError(`anchor id ${id} is outside the vocabulary [0, ${spec.vocabSize})`);
  }
  const topK = opts.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0 || topK > spec.vocabSize) throw new UserError(`--top-k must be an integer in [0, ${spec.vocabSize}], got ${topK}`);
  for (const iv of opts.interventions ?? []) {
    if (!Number.isInteger(iv.layer) || iv.layer < 0 || iv.layer >= spec.nLayers) {
      throw new UserError(`intervention on block ${iv.layer}: the model has blocks 0..${spec.nLayers - 1}`);
    }
    // The graph multiplies in float32: a factor beyond ±1e6 overflows activations to Inf (1e39 is Inf itself).
    if (iv.kind === 'scale' && !(typeof iv.factor === 'number' && Number.isFinite(iv.factor) && Math.abs(iv.factor) <= MAX_SCALE)) {
      throw new UserError(`--scale-block ${iv.layer}:${iv.factor}: the factor must be a finite number between -${MAX_SCALE} and ${MAX_SCALE}`);
    }
    if (iv.kind === 'add') {
      const what = `--add-vector ${iv.layer}:${iv.source ?? '(vector)'}`;
      const f = iv.factor ?? 1;
      if (!(Number.isFinite(f) && Math.abs(f) <= MAX_SCALE)) throw new UserError(`${what}: the scale must be a finite number between -${MAX_SCALE} and ${MAX_SCALE}, got ${f}`);
      const v = iv.vector;
      if (!Array.isArray(v) || v.length !== spec.dModel) throw new UserError(`${what}: the vector has ${Array.isArray(v) ? v.length : 0} values; the model's residual stream has d_model = ${spec.dModel}`);
      const bad = v.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x) || !Number.isFinite(Math.fround(x * f)));
      if (bad >= 0) throw new UserError(`${what}: value ${bad} (${v[bad]}) times the scale is not a finite float32`);
    }
    if (iv.kind !== 'scale' && iv.kind !== 'skip' && iv.kind !== 'add') throw new UserError(`unknown intervention kind '${String(iv.kind)}' (scale, skip or add)`);
  }
  const batchSize = opts.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`--batch-size must be a positive integer, got ${batchSize}`);

  const positions = opts.positions ?? 'last';
  if (positions !== 'last' && positions !== 'prompt' && positions !== 'all') throw new UserError(`--positions must be last, prompt or all, got ${String(positions)}`);
  const embeddings = opts.lensEmbeddings === true;
  const L = spec.nLayers + (embeddings ? 1 : 0);
  // what the graph depends on (a vector's file name does not)
  const interventions = opts.interventions?.length ? opts.interventions.map(({ kind, layer, factor, vector }) => ({ kind, layer, factor, vector })) : undefined;
  const lensGroups = opts.lensGroups ?? Math.round((batchSize * L) / LENS_ROWS_PER_GROUP);
  if (!Number.isInteger(lensGroups) || lensGroups < 0) throw new UserError(`lensGroups must be a non-negative integer, got ${lensGroups}`);
  const groups = Math.max(1, Math.min(L, lensGroups));
  // the graph's query columns: the next prompt token (positions), the target
  const queries = { next: positions !== 'last', target: opts.target !== undefined || opts.targets === true };
  const nQueries = Number(queries.next) + Number(queries.target);
  const lens: LensOptions = {
    metrics,
    topK,
    anchorIds,
    interventions,
    layerGroups: groups > 1 ? groups : undefined,
    ...(positions !== 'last' ? { positions: true } : {}),
    ...(embeddings ? { embeddings: true } : {}),
    ...(nQueries > 0 ? { queries: nQueries } : {}),
  };
  return { lens, metrics, aliases, topK, batchSize, lensLayers: L, positions: queries.next, queries };
}

/** Every option of a profile() call, checked, with its default filled in. */
export interface ProfileSettings extends LensSettings {
  maxNew: number;
  windows: number | undefined;
  temperature: number;
  seed: number;
  stopAtEos: boolean;
  bos: boolean;
  sortByLength: boolean;
  prefillTokens: number;
  positionTokens: number;
}

/** Check a profile() call's options (before any prompt is read) and fill in the defaults. */
export function profileSettings(opts: ProfileOptions, spec: Pick<DecoderSpec, 'vocabSize' | 'nLayers' | 'dModel'>): ProfileSettings {
  const positions = opts.positions ?? 'last';
  const maxNew = opts.maxNewTokens ?? (positions === 'prompt' ? 0 : 8);
  const least = positions === 'last' ? 1 : 0;
  if (!Number.isInteger(maxNew) || maxNew < least) {
    throw new UserError(`--max-new-tokens must be ${least === 1 ? 'a positive integer' : 'an integer ≥ 0'}, got ${maxNew}${least === 1 ? ' (0 is allowed with --positions prompt or all)' : ''}`);
  }
  const windows = opts.windows;
  if (windows !== undefined && maxNew === 0) throw new UserError('--windows needs generated steps; give --max-new-tokens');
  if (windows !== undefined) {
    if (!Number.isInteger(windows) || windows < 1 || maxNew % windows !== 0) {
      throw new UserError(`--windows ${windows} must be a positive integer that divides --max-new-tokens ${maxNew}`);
    }
    if (opts.stopAtEos && windows > 1) throw new UserError('--windows cannot be combined with --stop-at-eos (stopped prompts have fewer steps than the windows need)');
  }
  const temperature = opts.temperature ?? 0;
  if (!(temperature >= 0)) throw new UserError(`--temperature must be ≥ 0, got ${temperature}`);
  const lens = lensSettings(opts, spec);
  if (temperature > 0 && lens.metrics.some((m) => m.kind === 'rank')) {
    throw new UserError(
      'rank:final is the rank of the token the model ranks first, which is the emitted token only with greedy decoding: use --temperature 0, ' +
        'or --target / --target-ids for the rank of a given token',
    );
  }
  const groups = lens.lens.layerGroups ?? 1;
  const positionTokens = opts.positionTokens ?? Math.max(1, Math.floor(POSITION_ROWS_PER_GROUP / Math.ceil(lens.lensLayers / groups)));
  if (!Number.isInteger(positionTokens) || positionTokens < 1) throw new UserError(`positionTokens must be a positive integer, got ${positionTokens}`);
  const prefillTokens = opts.prefillTokens ?? 192;
  if (!Number.isInteger(prefillTokens) || prefillTokens < 1) throw new UserError(`prefillTokens must be a positive integer, got ${prefillTokens}`);
  return {
    ...lens,
    maxNew,
    windows,
    temperature,
    seed: opts.seed ?? 0,
    stopAtEos: opts.stopAtEos ?? false,
    bos: opts.bos ?? true,
    sortByLength: opts.sortByLength !== false,
    prefillTokens,
    positionTokens,
  };
}

/** A weightDtype / --weight-dtype value checked (the CLI, before any work, and LensModel.load say the same). */
export function weightDtypeOption(v: unknown): WeightDtype | undefined {
  if (v === undefined || v === 'float32' || v === 'checkpoint') return v;
  throw new UserError(`--weight-dtype '${String(v)}': give checkpoint (the default: 16-bit weights stay 16-bit, cast where used) or float32`);
}

/** A quantize / --quantize value checked: int8, or absent (the CLI, before any work, and LensModel.load say the same). */
export function quantizeOption(v: unknown): 'int8' | undefined {
  if (v === undefined || v === 'int8') return v;
  throw new UserError(`--quantize '${String(v)}': the only quantization is int8 (leave it out for the exact path)`);
}
