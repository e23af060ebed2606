import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Intervention, LensOptions } from '../graph/lens-head.js';
import { graphCodeHash } from '../graph/code-hash.js';
import { defaultCacheDir, exportWeights } from '../graph/export.js';
import { needsAnchors, parseMetrics, type Metric } from '../graph/metric-names.js';
import { openCheckpoint, TensorResolver, type Checkpoint } from '../models/checkpoint.js';
import { architectureFor } from '../models/registry.js';
import type { Architecture, DecoderSpec } from '../models/types.js';
import { EmbeddingReader } from '../runtime/embeddings.js';
import { GraphSession, type Device, type Feed, type RunOutputs } from '../runtime/session.js';
import { TextTokenizer } from '../tokenizer/index.js';
import { UserError } from '../util/errors.js';
import { ProgressBar } from '../util/progress.js';
import { Sampler } from './sampling.js';
import { windowMeans } from './windows.js';

export interface LoadOptions {
  /** Where exported weights and graphs are kept (default: ~/.cache/entropylens). */
  cacheDir?: string;
  threads?: number;
  device?: Device;
  /** Called while the weight cache is being written (first load of a checkpoint). */
  onExportProgress?: (done: number, total: number) => void;
  /** Draw a progress bar on stderr (a terminal) while the weight cache is written. */
  progress?: boolean;
  /** The profile options the graph built at load is for (default: Shannon, batch 8); see prepare(). */
  profile?: ProfileOptions;
}

/**
 * A prompt as text (tokenized, BOS rule applied) or as ids (used verbatim). `stream` names the
 * sampler's random stream (default: the prompt's position), so a resumed run that skips finished
 * prompts samples the same tokens for the rest.
 */
export type PromptInput = string | { text: string; stream?: number } | { ids: number[]; stream?: number };

export interface ProfileOptions {
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
   * stay small; decode steps always run the whole batch. GPT-2 small, batch 8 of 120–140-token
   * prompts (one row per run): peak RSS ≈ 720 MB in 4.4 s; with 512 (several rows per run)
   * ≈ 840 MB in 3.9 s; with 64 (spans) ≈ 710 MB in 5.9 s.
   */
  prefillTokens?: number;
  /**
   * The lens head's layer groups (see LensOptions.layerGroups; 0 or 1 = one group). Default: about
   * 32 rows (batch size × layers) per group, so batch 8 on a 12-layer model runs 3 groups of 4
   * layers and batch 1 one group. The graph depends on it: profile() calls with another batch size
   * (or metrics) than the last build a new graph and session.
   */
  lensGroups?: number;
  /** Called after each batch with the number of prompts finished so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface ProfileResult {
  /** Position of the prompt in the input list. */
  index: number;
  prompt: string | null;
  inputIds: number[];
  generatedIds: number[];
  completion: string | null;
  /** metric name → steps × layers (layer 0 = output of block 0). */
  metrics: Record<string, number[][]>;
  /** With `windows`: metric name → windows × layers. */
  windows?: Record<string, number[][]>;
  /** steps × layers: the lens' top-1 token id. */
  argmax: number[][];
  /** With topK: steps × layers × k. */
  topk?: { ids: number[][][]; probs: number[][][] };
}

const DEFAULT_METRICS = 'shannon';
/**
 * Lens rows (batch × layers) per unembedding Gemm. Below ~30 rows the Gemm is bound by reading the
 * unembedding (GPT-2 small, this machine: 12 rows 7 ms, 96 rows 23 ms), so smaller groups would cost
 * time; larger ones only cost memory.
 */
const LENS_ROWS_PER_GROUP = 32;

/** A session and how many profile() calls are running on it. */
interface SessionEntry {
  key: string;
  session: Promise<GraphSession>;
  users: number;
  /** Replaced by another configuration: released when its last user finishes. */
  retired: boolean;
  released: boolean;
}

/** Release a replaced session now, or mark it for release when its last profile() call ends. */
async function retire(entry: SessionEntry): Promise<void> {
  entry.retired = true;
  if (entry.users > 0) return;
  let session: GraphSession;
  try {
    session = await entry.session;
  } catch {
    return; // it never started: nothing to release
  }
  if (entry.users === 0 && !entry.released) {
    entry.released = true;
    await session.release();
  }
}

/** JSON.stringify replacer keeping NaN and ±Infinity apart (they would all print as null). */
function exactNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** A loaded checkpoint, ready to profile prompts. */
export class LensModel {
  /** The session of the last lens configuration used; one at a time, since each holds the weights. */
  private current: SessionEntry | undefined;
  private readonly embeddings: EmbeddingReader;

  private constructor(
    readonly dir: string,
    readonly config: Record<string, unknown>,
    readonly arch: Architecture,
    readonly spec: DecoderSpec,
    readonly tokenizer: TextTokenizer | undefined,
    private readonly cache: { dir: string; weights: Map<string, import('../graph/builder.js').ExternalWeight> },
    private readonly loadOpts: LoadOptions,
    /** Seconds spent exporting weights (0 when the cache was warm). */
    readonly exportSeconds: number,
  ) {
    this.embeddings = new EmbeddingReader(path.join(cache.dir, 'weights.bin'), cache.weights.get('embed.weight')!);
  }

  static async load(dir: string, opts: LoadOptions = {}): Promise<LensModel> {
    const ckpt: Checkpoint = openCheckpoint(dir);
    const arch = architectureFor(ckpt.config.model_type, path.join(ckpt.dir, 'config.json'));
    const spec = arch.spec(ckpt.config);
    const resolver = new TensorResolver(ckpt, arch.prefixes);
    const sources = arch.weights(spec, resolver, ckpt);
    const unembed = sources.find((s) => s.name === 'lm_head.weight') ?? sources.find((s) => s.name === 'embed.weight');
    if (unembed) spec.vocabSize = unembed.dims[0];
    const t0 = performance.now();
    const bar = opts.progress ? new ProgressBar({ total: sources.length, label: 'caching weights', unit: 'tensors' }) : undefined;
    const cache = exportWeights(spec, sources, ckpt.fingerprint, opts.cacheDir ?? defaultCacheDir(), (done, total) => {
      bar?.tick();
      opts.onExportProgress?.(done, total);
    });
    if (cache.built) bar?.finish();
    const exportSeconds = cache.built ? (performance.now() - t0) / 1000 : 0;
    const tokenizer = TextTokenizer.load(ckpt.dir, spec.bosTokenId);
    const model = new LensModel(ckpt.dir, ckpt.config, arch, spec, tokenizer, cache, opts, exportSeconds);
    // Build the graph now so load time includes session creation.
    await model.prepare(opts.profile);
    return model;
  }

  /** Whether the rotary parameters depend on the longest position of a call (LongRoPE, dynamic NTK). */
  private get ropeDependsOnLength(): boolean {
    const r = this.spec.rope;
    return (Array.isArray(r) ? r : [r]).some((x) => x !== undefined && x !== null && (x.long !== undefined || x.dynamic !== undefined));
  }

  get nLayers(): number {
    return this.spec.nLayers;
  }

  /** Parameters of the exported weights (a tied embedding counted once). */
  get parameterCount(): number {
    let n = 0;
    for (const w of this.cache.weights.values()) n += w.dims.reduce((a, b) => a * b, 1);
    return n;
  }

  /**
   * The ONNX session for a lens head / intervention set, built on first use. Only the latest is
   * kept: each session holds the model's weights, so switching configurations retires the old one,
   * released as soon as no profile() call still runs on it. The bookkeeping is synchronous, so
   * concurrent calls share one build of a configuration and never lose track of a session.
   */
  private session(lens: LensOptions): SessionEntry {
    // The cache folder is already specific to the checkpoint and its spec; the graph file name adds
    // the lens options and the graph-building code itself, so a cached graph is never stale.
    const key = createHash('sha256').update(JSON.stringify(lens, exactNumbers)).update(graphCodeHash()).digest('hex').slice(0, 16);
    if (this.current?.key === key) return this.current;
    const old = this.current;
    const session = (async (): Promise<GraphSession> => {
      if (old) await retire(old); // before building: at most one set of weights, unless old is in use
      const file = path.join(this.cache.dir, `graph-${key}.onnx`);
      if (!(fs.existsSync(file) && fs.statSync(file).size > 0)) {
        // Built on first use only: the ONNX builder (and protobuf.js) need not be loaded otherwise.
        const { buildDecoderGraph } = await import('../graph/decoder.js');
        const bytes = buildDecoderGraph(this.spec, this.cache.weights, 'weights.bin', lens);
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, bytes);
        fs.renameSync(tmp, file);
      }
      return GraphSession.create(file, { threads: this.loadOpts.threads, device: this.loadOpts.device });
    })();
    this.current = { key, session, users: 0, retired: false, released: false };
    return this.current;
  }

  /** Token ids of a prompt: text is tokenized and gets BOS when the tokenizer has one; ids are verbatim. */
  promptIds(p: PromptInput, index: number, bos = true): { ids: number[]; text: string | null } {
    if (typeof p === 'object' && 'ids' in p) {
      if (p.ids.length === 0) throw new UserError(`prompt ${index + 1} has no token ids`);
      for (const id of p.ids) {
        if (!Number.isInteger(id) || id < 0 || id >= this.spec.vocabSize) {
          throw new UserError(`prompt ${index + 1}: token id ${id} is outside the vocabulary [0, ${this.spec.vocabSize})`);
        }
      }
      return { ids: [...p.ids], text: null };
    }
    const text = typeof p === 'string' ? p : p.text;
    if (text.length === 0) throw new UserError(`prompt ${index + 1} is empty; give some text (or token ids with --input-ids)`);
    if (!this.tokenizer) {
      throw new UserError(`${this.dir} has no tokenizer.json, so text prompts cannot be tokenized; give token ids (--input-ids 1,2,3)`);
    }
    const body = this.tokenizer.encode(text);
    const ids = bos && this.tokenizer.bosId !== undefined ? [this.tokenizer.bosId, ...body] : body;
    if (ids.length === 0) throw new UserError(`prompt ${index + 1} tokenizes to nothing`);
    return { ids, text };
  }

  /** Check the lens-related options of a profile call and turn them into the graph's lens options. */
  private lensFor(opts: ProfileOptions): { lens: LensOptions; metrics: Metric[]; topK: number; batchSize: number } {
    const metrics = Array.isArray(opts.metrics) && typeof opts.metrics[0] === 'object' ? (opts.metrics as Metric[]) : parseMetrics((opts.metrics as string | string[] | undefined) ?? DEFAULT_METRICS);
    const anchorIds = opts.anchorIds ? [...new Set(opts.anchorIds)].sort((a, b) => a - b) : undefined;
    if (needsAnchors(metrics) && (!anchorIds || anchorIds.length === 0)) {
      throw new UserError('anchored metrics need anchor tokens: give --anchors "A,B,C" or --anchor-ids 3,7,11');
    }
    for (const id of anchorIds ?? []) {
      if (!Number.isInteger(id) || id < 0 || id >= this.spec.vocabSize) throw new UserError(`anchor id ${id} is outside the vocabulary [0, ${this.spec.vocabSize})`);
    }
    const topK = opts.topK ?? 0;
    if (!Number.isInteger(topK) || topK < 0 || topK > this.spec.vocabSize) throw new UserError(`--top-k must be an integer in [0, ${this.spec.vocabSize}], got ${topK}`);
    for (const iv of opts.interventions ?? []) {
      if (!Number.isInteger(iv.layer) || iv.layer < 0 || iv.layer >= this.spec.nLayers) {
        throw new UserError(`intervention on block ${iv.layer}: the model has blocks 0..${this.spec.nLayers - 1}`);
      }
    }
    const batchSize = opts.batchSize ?? 8;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`--batch-size must be a positive integer, got ${batchSize}`);

    const L = this.spec.nLayers;
    const interventions = opts.interventions?.length ? opts.interventions : undefined;
    const lensGroups = opts.lensGroups ?? Math.round((batchSize * L) / LENS_ROWS_PER_GROUP);
    if (!Number.isInteger(lensGroups) || lensGroups < 0) throw new UserError(`lensGroups must be a non-negative integer, got ${lensGroups}`);
    const groups = Math.max(1, Math.min(L, lensGroups));
    const lens: LensOptions = { metrics, topK, anchorIds, interventions, layerGroups: groups > 1 ? groups : undefined };
    return { lens, metrics, topK, batchSize };
  }

  /**
   * Build (or keep) the graph and session that profile() with these options will use (metrics,
   * top-k, anchors, interventions, batch size → lens groups), so that a timed profile() call
   * measures profiling only. load() prepares its `profile` options.
   */
  async prepare(opts: ProfileOptions = {}): Promise<void> {
    await this.session(this.lensFor(opts).lens).session;
  }

  /** Profile prompts, yielding each prompt's result in input order as soon as it and all before it are done. */
  async *profile(prompts: PromptInput[], opts: ProfileOptions = {}): AsyncGenerator<ProfileResult> {
    const maxNew = opts.maxNewTokens ?? 8;
    if (!Number.isInteger(maxNew) || maxNew < 1) throw new UserError(`--max-new-tokens must be a positive integer, got ${maxNew}`);
    const windows = opts.windows;
    if (windows !== undefined) {
      if (!Number.isInteger(windows) || windows < 1 || maxNew % windows !== 0) {
        throw new UserError(`--windows ${windows} must be a positive integer that divides --max-new-tokens ${maxNew}`);
      }
      if (opts.stopAtEos && windows > 1) throw new UserError('--windows cannot be combined with --stop-at-eos (stopped prompts have fewer steps than the windows need)');
    }
    const temperature = opts.temperature ?? 0;
    if (!(temperature >= 0)) throw new UserError(`--temperature must be ≥ 0, got ${temperature}`);
    const { lens, metrics, topK, batchSize } = this.lensFor(opts);

    // Tokenize and check every prompt before any work starts.
    const items = prompts.map((p, i) => ({
      index: i,
      stream: typeof p === 'object' && p.stream !== undefined ? p.stream : i,
      ...this.promptIds(p, i, opts.bos ?? true),
    }));
    for (const it of items) {
      if (it.ids.length + maxNew - 1 > this.spec.maxPositions) {
        throw new UserError(
          `prompt ${it.index + 1} has ${it.ids.length} tokens; with --max-new-tokens ${maxNew} it needs ${it.ids.length + maxNew - 1} positions, ` +
            `more than the model's context of ${this.spec.maxPositions}; shorten the prompt or lower --max-new-tokens`,
        );
      }
    }
    const prefillTokens = opts.prefillTokens ?? 192;
    if (!Number.isInteger(prefillTokens) || prefillTokens < 1) throw new UserError(`prefillTokens must be a positive integer, got ${prefillTokens}`);
    // Batches of similar lengths waste less on padding; results still come out in input order.
    const order = opts.sortByLength === false ? items : [...items].sort((a, b) => a.ids.length - b.ids.length || a.index - b.index);
    const batches: (typeof items)[] = [];
    for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));

    const entry = this.session(lens);
    entry.users += 1; // at once: a concurrent switch must not release it under this call
    try {
      const session = await entry.session;
      // This call's own cache buffers (concurrent profile() calls never share them), sized for its largest batch.
      const slots = Math.max(0, ...batches.map((b) => b.length * cacheSlots(b, maxNew)));
      const pool = new KvPool(slots * this.spec.nKvHeads * this.spec.headDim, session.inputNames.filter((n) => n.startsWith('past_key_values.')).length);
      const ready = new Map<number, ProfileResult>();
      let next = 0;
      let finished = 0;
      for (const batch of batches) {
        const results = await this.generateBatch(session, pool, batch, { maxNew, temperature, seed: opts.seed ?? 0, metrics, topK, stopAtEos: opts.stopAtEos ?? false, prefillTokens });
        for (const r of results) {
          if (windows !== undefined) {
            r.windows = {};
            for (const [name, m] of Object.entries(r.metrics)) r.windows[name] = windowMeans(m, windows);
          }
          ready.set(r.index, r);
        }
        finished += batch.length;
        opts.onProgress?.(finished, order.length);
        while (ready.has(next)) {
          yield ready.get(next)!;
          ready.delete(next++);
        }
      }
    } finally {
      entry.users = Math.max(0, entry.users - 1);
      if (entry.retired && entry.users === 0) await retire(entry);
    }
  }

  private async generateBatch(
    session: GraphSession,
    pool: KvPool,
    batch: { index: number; stream: number; ids: number[]; text: string | null }[],
    o: { maxNew: number; temperature: number; seed: number; metrics: Metric[]; topK: number; stopAtEos: boolean; prefillTokens: number },
  ): Promise<ProfileResult[]> {
    const B = batch.length;
    const L = this.spec.nLayers;
    const KV = this.spec.nKvHeads;
    const hd = this.spec.headDim;
    const maxLen = Math.max(...batch.map((b) => b.ids.length));
    const padId = 0;
    const eos = new Set(this.spec.eosTokenIds.length ? this.spec.eosTokenIds : this.tokenizer?.eosIds ?? []);

    // Left-padded prefill inputs.
    const inputIds = new Int32Array(B * maxLen).fill(padId);
    const promptMask = new BigInt64Array(B * maxLen);
    const positions = new BigInt64Array(B * maxLen).fill(1n);
    const nextPos: number[] = [];
    batch.forEach((b, r) => {
      const off = maxLen - b.ids.length;
      b.ids.forEach((id, j) => {
        inputIds[r * maxLen + off + j] = id;
        promptMask[r * maxLen + off + j] = 1n;
        positions[r * maxLen + off + j] = BigInt(j);
      });
      nextPos.push(b.ids.length);
    });
    // The static cache: slot j of every row holds cache index j (the prompt, left-padded, then the
    // generated tokens); the last generated token is never fed back, so maxLen + maxNew − 1 slots.
    const cache = new KvCache(pool, session.inputNames, B, KV, cacheSlots(batch, o.maxNew), hd);
    const results: ProfileResult[] = batch.map((b) => ({
      index: b.index,
      prompt: b.text,
      inputIds: b.ids,
      generatedIds: [],
      completion: null,
      metrics: Object.fromEntries(o.metrics.map((m) => [m.name, [] as number[][]])),
      argmax: [],
      topk: o.topK > 0 ? { ids: [], probs: [] } : undefined,
    }));
    const samplers = batch.map((b) => new Sampler(o.seed, b.stream));
    const done = new Array<boolean>(B).fill(false);
    let next: number[] = [];
    const ones = new BigInt64Array(B).fill(1n);
    for (let step = 0; step < o.maxNew; step++) {
      const parts: RunOutputs[] = [];
      if (step === 0) {
        // The prefill runs in chunks of about prefillTokens tokens (activations and the returned
        // cache entries scale with them): whole rows when several fit, else spans of one row's
        // prompt, each attending to the spans before it through the cache.
        // Rotary parameters chosen per call from its longest position (LongRoPE, dynamic NTK) would
        // differ between spans, unlike Hugging Face's one forward over the prompt: no spans then.
        const rowsPerRun = Math.max(1, Math.floor(o.prefillTokens / maxLen));
        const span = rowsPerRun > 1 || this.ropeDependsOnLength ? maxLen : Math.min(maxLen, o.prefillTokens);
        for (let r0 = 0; r0 < B; r0 += rowsPerRun) {
          const r1 = Math.min(B, r0 + rowsPerRun);
          for (let t0 = 0; t0 < maxLen; t0 += span) {
            const t1 = Math.min(maxLen, t0 + span);
            const S = t1 - t0;
            const ids = new Int32Array((r1 - r0) * S);
            const pos = new BigInt64Array((r1 - r0) * S);
            const fresh = new BigInt64Array((r1 - r0) * S);
            for (let r = r0; r < r1; r++) {
              ids.set(inputIds.subarray(r * maxLen + t0, r * maxLen + t1), (r - r0) * S);
              pos.set(positions.subarray(r * maxLen + t0, r * maxLen + t1), (r - r0) * S);
              fresh.set(promptMask.subarray(r * maxLen + t0, r * maxLen + t1), (r - r0) * S);
            }
            // The first span has no past: one masked dummy slot stands in for the cache (a zero-length
            // past is not allowed, and attending to the whole empty cache would cost time).
            const past = t0 === 0 ? 1 : cache.slots;
            const out = await session.run({
              inputs_embeds: { type: 'float32', data: this.embeddings.lookup(ids), dims: [r1 - r0, S, this.embeddings.dim] },
              attention_mask: { type: 'int64', data: cache.mask(r0, r1, past, fresh), dims: [r1 - r0, past + S] },
              position_ids: { type: 'int64', data: pos, dims: [r1 - r0, S] },
              past_length: { type: 'int64', data: BigInt64Array.of(BigInt(t0)), dims: [] },
              ...(t0 === 0 ? cache.dummyFeeds(r1 - r0) : cache.feeds(r0, r1)),
            });
            cache.write(out, r0, t0, fresh);
            if (t1 === maxLen) parts.push(out); // the lens at the prompt's last position
          }
        }
      } else {
        // Decode step: one new token per row, attending to the whole static cache in place.
        const out = await session.run({
          inputs_embeds: { type: 'float32', data: this.embeddings.lookup(next), dims: [B, 1, this.embeddings.dim] },
          attention_mask: { type: 'int64', data: cache.mask(0, B, cache.slots, ones), dims: [B, cache.slots + 1] },
          position_ids: { type: 'int64', data: BigInt64Array.from(nextPos, (p) => BigInt(p)), dims: [B, 1] },
          past_length: { type: 'int64', data: BigInt64Array.of(BigInt(cache.length)), dims: [] },
          ...cache.feeds(),
        });
        cache.write(out, 0, cache.length, ones);
        for (let r = 0; r < B; r++) nextPos[r] += 1;
        parts.push(out);
      }
      const out: RunOutputs = parts.length === 1 ? parts[0] : concatRows(parts);
      const logits = out.logits.data as Float32Array; // [B, V]
      const V = out.logits.dims[1];
      const argmax = out['lens.argmax'].data as BigInt64Array; // [B, L]
      next = new Array<number>(B);
      for (let r = 0; r < B; r++) {
        if (done[r]) {
          next[r] = padId;
          continue;
        }
        const res = results[r];
        for (const m of o.metrics) {
          const d = out[`lens.${m.name}`].data as Float32Array;
          res.metrics[m.name].push(Array.from(d.subarray(r * L, (r + 1) * L)));
        }
        res.argmax.push(Array.from(argmax.subarray(r * L, (r + 1) * L), Number));
        if (res.topk) {
          const k = o.topK;
          const ids = out['lens.topk_ids'].data as BigInt64Array;
          const lps = out['lens.topk_logprobs'].data as Float32Array;
          const rowIds: number[][] = [];
          const rowProbs: number[][] = [];
          for (let l = 0; l < L; l++) {
            const off = (r * L + l) * k;
            rowIds.push(Array.from(ids.subarray(off, off + k), Number));
            rowProbs.push(Array.from(lps.subarray(off, off + k), (v) => Math.exp(v)));
          }
          res.topk.ids.push(rowIds);
          res.topk.probs.push(rowProbs);
        }
        const row = logits.subarray(r * V, (r + 1) * V);
        const tok = o.temperature > 0 ? samplers[r].sample(row, o.temperature) : argmaxOf(row);
        res.generatedIds.push(tok);
        next[r] = tok;
        if (o.stopAtEos && eos.has(tok)) done[r] = true;
      }
      if (step === o.maxNew - 1 || done.every(Boolean)) break;
    }
    for (const res of results) res.completion = this.tokenizer ? this.tokenizer.decode(res.generatedIds) : null;
    return results;
  }

  /** Decode one token id to text (for the human view); null without a tokenizer. */
  tokenText(id: number): string | null {
    return this.tokenizer ? this.tokenizer.decode([id]) : null;
  }

  async close(): Promise<void> {
    const entry = this.current;
    this.current = undefined;
    if (entry) {
      entry.users = 0; // close() ends every use
      await retire(entry);
    }
    this.embeddings.close();
  }
}

/**
 * The cache buffers of one profile() call, allocated once at the largest size any batch of the call
 * needs (growing per batch would leave the outgrown set to the garbage collector, at times two sets
 * alive at once).
 */
class KvPool {
  /**
   * One allocation for all buffers: a mapping of its own, returned whole when dropped, rather than
   * many that the C allocator interleaves with short-lived ones (GPT-2 small, batch 8: peak RSS
   * ~10 MB lower).
   */
  private block: Float32Array | undefined;
  private readonly handedOut = new Set<number>();

  /** `floats` per buffer, `buffers` of them. */
  constructor(
    private readonly floats: number,
    private readonly buffers: number,
  ) {}

  /** A zeroed view of the first n floats of buffer i. */
  view(i: number, n: number): Float32Array {
    if (n > this.floats || i >= this.buffers) throw new Error(`KV buffer ${i}: ${n} floats asked of ${this.floats}`);
    this.block ??= new Float32Array(this.floats * this.buffers);
    const v = this.block.subarray(i * this.floats, i * this.floats + n);
    if (this.handedOut.has(i)) v.fill(0); // a fresh allocation is zero already
    this.handedOut.add(i);
    return v;
  }
}

/**
 * Cache slots a batch needs: slot j of every row holds cache index j (the prompt, left-padded, then
 * the generated tokens); the last generated token is never fed back.
 */
function cacheSlots(batch: { ids: number[] }[], maxNew: number): number {
  return Math.max(...batch.map((b) => b.ids.length)) + maxNew - 1;
}

/**
 * The static KV cache of one batch: per layer a key and a value buffer [batch, kvHeads, slots,
 * headDim], passed to the graph whole at every step; the graph returns only the new entries, written
 * here at their slots. `filled` [batch, slots] says which slots hold real tokens (not padding, not
 * yet written).
 */
class KvCache {
  readonly names: string[];
  private readonly views = new Map<string, Float32Array>();
  private readonly filled: BigInt64Array;
  private dummy = new Float32Array(0);
  /** Slots written so far (the cache index of the next token). */
  length = 0;

  constructor(
    pool: KvPool,
    inputNames: readonly string[],
    readonly batch: number,
    readonly kvHeads: number,
    readonly slots: number,
    readonly headDim: number,
  ) {
    this.names = inputNames.filter((n) => n.startsWith('past_key_values.'));
    this.names.forEach((name, i) => this.views.set(name, pool.view(i, batch * kvHeads * slots * headDim)));
    this.filled = new BigInt64Array(batch * slots);
  }

  /** The cache of rows r0…r1 (all of them by default), in place. */
  feeds(r0 = 0, r1 = this.batch): Record<string, Feed> {
    const n = this.kvHeads * this.slots * this.headDim;
    return Object.fromEntries(
      this.names.map((name) => [name, { type: 'float32', data: this.views.get(name)!.subarray(r0 * n, r1 * n), dims: [r1 - r0, this.kvHeads, this.slots, this.headDim] }]),
    );
  }

  /** The past of a prefill's first span: one zero slot per row (masked: nothing is written yet). */
  dummyFeeds(rows: number): Record<string, Feed> {
    const n = rows * this.kvHeads * this.headDim;
    if (this.dummy.length < n) this.dummy = new Float32Array(n);
    const data = this.dummy.subarray(0, n);
    return Object.fromEntries(this.names.map((name) => [name, { type: 'float32', data, dims: [rows, this.kvHeads, 1, this.headDim] }]));
  }

  /**
   * attention_mask [rows, past + S] for rows r0…r1: which of their first `past` slots hold real
   * tokens, then `fresh` [rows, S], which of the new positions do.
   */
  mask(r0: number, r1: number, past: number, fresh: BigInt64Array): BigInt64Array {
    const S = fresh.length / (r1 - r0);
    const w = past + S;
    const mask = new BigInt64Array((r1 - r0) * w);
    for (let r = r0; r < r1; r++) {
      mask.set(this.filled.subarray(r * this.slots, r * this.slots + past), (r - r0) * w);
      mask.set(fresh.subarray((r - r0) * S, (r - r0 + 1) * S), (r - r0) * w + past);
    }
    return mask;
  }

  /**
   * Copy a run's new entries [rows, kvHeads, seq, headDim] into rows r0… at slots at…, `fresh`
   * [rows, seq] saying which are real tokens; drops them from `out`.
   */
  write(out: RunOutputs, r0: number, at: number, fresh: BigInt64Array): void {
    const { kvHeads, slots, headDim } = this;
    let rows = 0;
    let seq = 0;
    for (const name of this.names) {
      const outName = name.replace('past_key_values.', 'new_key_values.');
      const src = out[outName];
      [rows, , seq] = src.dims;
      if (at + seq > slots) throw new Error(`KV cache overflow: ${at + seq} positions in ${slots} slots`);
      const data = src.data as Float32Array;
      const dst = this.views.get(name)!;
      const span = seq * headDim;
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < kvHeads; h++) {
          const from = (r * kvHeads + h) * span;
          dst.set(data.subarray(from, from + span), (((r0 + r) * kvHeads + h) * slots + at) * headDim);
        }
      }
      delete out[outName];
    }
    for (let r = 0; r < rows; r++) this.filled.set(fresh.subarray(r * seq, (r + 1) * seq), (r0 + r) * slots + at);
    this.length = Math.max(this.length, at + seq);
  }
}

/** Outputs of runs over consecutive row ranges, joined along the batch (outermost) axis. */
function concatRows(parts: RunOutputs[]): RunOutputs {
  const out: RunOutputs = {};
  for (const name of Object.keys(parts[0])) {
    const pieces = parts.map((p) => p[name]);
    const length = pieces.reduce((n, p) => n + p.data.length, 0);
    const data = pieces[0].data instanceof BigInt64Array ? new BigInt64Array(length) : new Float32Array(length);
    let off = 0;
    for (const p of pieces) {
      if (data instanceof BigInt64Array) data.set(p.data as BigInt64Array, off);
      else data.set(p.data as Float32Array, off);
      off += p.data.length;
    }
    out[name] = { data, dims: [pieces.reduce((n, p) => n + p.dims[0], 0), ...pieces[0].dims.slice(1)] };
  }
  return out;
}

/** Index of the largest value; the first one on ties, as torch.argmax. */
export function argmaxOf(row: Float32Array): number {
  let best = 0;
  let bv = row[0];
  for (let i = 1; i < row.length; i++) {
    if (row[i] > bv) {
      bv = row[i];
      best = i;
    }
  }
  return best;
}
