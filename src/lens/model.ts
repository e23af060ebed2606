/**
 * LensModel, the library's entry point: a loaded checkpoint (weights exported once to the cache
 * folder), its tokenizer, and the ONNX session of the current lens configuration; profile() runs
 * prompts through it in batches and yields their entropy profiles in input order.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { graphCodeHash } from '../graph/code-hash.js';
import { defaultCacheDir, exportWeights } from '../graph/export.js';
import { isHalfWeight, type ExternalWeight, type WeightDtype } from '../graph/external.js';
import { quantNames } from '../graph/quantize.js';
import type { LensOptions } from '../graph/lens-options.js';
import { contentFingerprint } from '../models/content-hash.js';
import { openModel } from '../models/load.js';
import type { Architecture, DecoderSpec } from '../models/types.js';
import { EmbeddingReader } from '../runtime/embeddings.js';
import { KvPool, cacheSlots } from '../runtime/kv-cache.js';
import { GraphSession, type Device } from '../runtime/session.js';
import { TextTokenizer } from '../tokenizer/index.js';
import { UserError } from '../util/errors.js';
import { ProgressBar } from '../util/progress.js';
import { generateBatch, type ProfileResult, type PromptItem } from './generate.js';
import { lensSettings, profileSettings, quantizeOption, weightDtypeOption, type ProfileOptions } from './options.js';
import { SessionSlot } from './session-slot.js';
import { windowMeans } from './windows.js';

export type { ProfileOptions } from './options.js';
export type { ProfileResult } from './generate.js';

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
  /**
   * 'int8': the linear layers and the unembedding as weight-only int8 (blocks of 128 with a scale and
   * zero point each; ONNX Runtime's MatMulNBits), cached in that form — about a quarter of the
   * float32 weights' memory, entropies within a few hundredths of a nat (README table). Default:
   * exact float32.
   */
  quantize?: 'int8';
  /**
   * 'checkpoint' (default): keep the weights of a bf16 (f16) checkpoint in 16 bits, in memory and in
   * the cache, and cast each to float32 in the graph just before its product. 'float32': convert
   * every weight once at load. The numbers are the same; 'checkpoint' takes about half the memory and
   * loads in a moment, 'float32' generates faster, since ONNX Runtime pre-packs (at load) only weights
   * that do not arrive through a Cast (README: "Large models"). A float32 checkpoint is float32 either way.
   */
  weightDtype?: WeightDtype;
}

/**
 * A prompt: text (tokenized, BOS by the bos option) or token ids (verbatim). `stream` is its sampler
 * stream (default: its index); `target` a token to report on (an id, or a text's first token),
 * taking the place of ProfileOptions.target for this prompt.
 */
export type PromptInput = string | { text: string; stream?: number; target?: string | number } | { ids: number[]; stream?: number; target?: string | number };

/** Consecutive windows of `size` items from any (async) iterable, read lazily. */
async function* windowsOf<T>(items: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** JSON.stringify replacer keeping NaN and ±Infinity apart (they would all print as null). */
function exactNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/**
 * When weights are read in place from checkpoint files: the deepest folder above them and the cache
 * folder (real paths), which the graph's weight locations are relative to — ONNX Runtime reads
 * external data only from below one folder. Undefined when every weight is in the cache's weights.bin.
 */
function dataFolder(cacheDir: string, weights: Map<string, ExternalWeight>): string | undefined {
  const files = new Set([...weights.values()].flatMap((w) => (w.file ? [w.file] : [])));
  if (files.size === 0) return undefined;
  let root = fs.realpathSync(cacheDir);
  const inside = (f: string): boolean => {
    const rel = path.relative(root, f);
    return !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
  };
  for (const f of files) {
    while (!inside(f)) {
      const up = path.dirname(root);
      if (up === root) throw new UserError(`the weight cache ${cacheDir} and the checkpoint file ${f} have no common folder (different drives?); choose a cache folder beside the checkpoint with --cache-dir`);
      root = up;
    }
  }
  return root;
}

/**
 * Whether the graph reads a 16-bit weight (its session then runs without constant folding). The graph
 * reads every exported weight (the weight contract) except the token embedding, which the runtime
 * looks up itself: the graph reads it only as a tied unembedding that is not quantized.
 */
export function graphReadsHalfWeights(spec: Pick<DecoderSpec, 'tiedEmbeddings'>, weights: Map<string, ExternalWeight>): boolean {
  const embedInGraph = spec.tiedEmbeddings && !weights.has(quantNames('embed.weight').blob);
  return [...weights.values()].some((w) => isHalfWeight(w) && (w.name !== 'embed.weight' || embedInGraph));
}

/** A loaded checkpoint, ready to profile prompts. */
export class LensModel {
  /** The session of the last lens configuration used; one at a time, since each holds the weights. */
  private readonly sessions = new SessionSlot();
  private readonly embeddings: EmbeddingReader;
  /** Where the graph's weight locations start, when some weights are read in place (dataFolder). */
  private readonly dataFolder: string | undefined;

  private constructor(
    readonly dir: string,
    readonly config: Record<string, unknown>,
    readonly arch: Architecture,
    readonly spec: DecoderSpec,
    readonly tokenizer: TextTokenizer | undefined,
    private readonly cache: { dir: string; weights: Map<string, ExternalWeight> },
    private readonly loadOpts: LoadOptions,
    /** Seconds spent exporting weights (0 when the cache was warm). */
    readonly exportSeconds: number,
  ) {
    this.dataFolder = dataFolder(cache.dir, cache.weights);
    const embed = cache.weights.get('embed.weight')!;
    this.embeddings = new EmbeddingReader(embed.file ?? path.join(cache.dir, 'weights.bin'), embed);
  }

  static async load(dir: string, opts: LoadOptions = {}): Promise<LensModel> {
    const { ckpt, arch, spec, weights: sources } = openModel(dir);
    const t0 = performance.now();
    const cacheDir = opts.cacheDir ?? defaultCacheDir();
    // the weight cache is keyed by what the files hold (each file hashed once, then known by its stat)
    let hashBar: ProgressBar | undefined;
    let hashedMB = 0;
    const fingerprint = contentFingerprint(ckpt.files, cacheDir, (done, total) => {
      if (!opts.progress || total < 64 << 20) return;
      hashBar ??= new ProgressBar({ total: Math.ceil(total / 2 ** 20), label: 'hashing checkpoint', unit: 'MB' });
      const mb = Math.floor(done / 2 ** 20);
      hashBar.tick(mb - hashedMB);
      hashedMB = mb;
    });
    hashBar?.finish();
    const bar = opts.progress ? new ProgressBar({ total: sources.length, label: 'caching weights', unit: 'tensors' }) : undefined;
    quantizeOption(opts.quantize);
    weightDtypeOption(opts.weightDtype);
    const cache = exportWeights(
      spec,
      sources,
      fingerprint,
      cacheDir,
      (done, total) => {
        bar?.tick();
        opts.onExportProgress?.(done, total);
      },
      opts.quantize,
      opts.weightDtype ?? 'checkpoint',
    );
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
   * The cache key of a lens configuration's graph and session. The cache folder is already
   * specific to the checkpoint and its spec; the key adds the lens options and the graph-building
   * code itself, so a cached graph is never stale.
   */
  private graphKey(lens: LensOptions): string {
    return createHash('sha256').update(JSON.stringify(lens, exactNumbers)).update(graphCodeHash()).update(this.dataFolder ?? '').digest('hex').slice(0, 16);
  }

  /** The graph file of a lens configuration (built now unless cached), opened as a session. */
  private async openSession(key: string, lens: LensOptions): Promise<GraphSession> {
    const file = path.join(this.cache.dir, `graph-${key}.onnx`);
    if (!(fs.existsSync(file) && fs.statSync(file).size > 0)) {
      // Built on first use only: the ONNX builder (and protobuf.js) need not be loaded otherwise.
      const { buildDecoderGraph } = await import('../graph/decoder.js');
      const folder = this.dataFolder;
      const cacheBin = path.join(fs.realpathSync(this.cache.dir), 'weights.bin');
      const bytes = buildDecoderGraph(this.spec, this.cache.weights, folder === undefined ? 'weights.bin' : (w) => path.relative(folder, w.file ?? cacheBin), lens);
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, bytes);
      fs.renameSync(tmp, file);
    }
    const halfWeights = graphReadsHalfWeights(this.spec, this.cache.weights);
    return GraphSession.create(file, { threads: this.loadOpts.threads, device: this.loadOpts.device, halfWeights, externalDataFolder: this.dataFolder });
  }

  /** Token ids of a prompt: text is tokenized and gets BOS when the tokenizer has one; ids are verbatim. */
  promptIds(p: PromptInput, index: number, bos = true): { ids: number[]; text: string | null } {
    if (typeof p === 'object' && 'ids' in p) {
      if (p.ids.length === 0) throw new UserError(`prompt ${index + 1} has no token ids`);
      const rows = Math.min(this.spec.vocabSize, this.embeddingRows);
      for (const id of p.ids) {
        if (!Number.isInteger(id) || id < 0 || id >= rows) {
          throw new UserError(`prompt ${index + 1}: token id ${id} is outside the vocabulary [0, ${rows})`);
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
    const rows = this.embeddingRows;
    const outside = ids.find((id) => id >= rows);
    if (outside !== undefined) {
      throw new UserError(
        `prompt ${index + 1} tokenizes to id ${outside}, but the model's embedding has ${rows} rows while ${this.dir}/tokenizer.json has ${this.tokenizer.vocabSize} tokens: ` +
          'the tokenizer does not belong to this model — use the tokenizer.json saved with these weights',
      );
    }
    return { ids, text };
  }

  /**
   * Build (or keep) the graph and session that profile() with these options will use (metrics,
   * top-k, anchors, interventions, batch size → lens groups), so that a timed profile() call
   * measures profiling only. load() prepares its `profile` options.
   */
  async prepare(opts: ProfileOptions = {}): Promise<void> {
    const { lens } = lensSettings(opts, this.spec);
    const key = this.graphKey(lens);
    await this.sessions.get(key, () => this.openSession(key, lens));
  }

  /**
   * Profile prompts, yielding each prompt's result in input order as soon as it and all before it
   * are done. Prompts may come from any (async) iterable and are read, tokenized and batched one
   * window at a time (`promptWindow`, default 512 or 32 batches), sorted by length within the window:
   * memory stays flat in the number of prompts, and results stream out window by window.
   */
  async *profile(prompts: Iterable<PromptInput> | AsyncIterable<PromptInput>, opts: ProfileOptions = {}): AsyncGenerator<ProfileResult> {
    const o = profileSettings(opts, this.spec);
    const window = opts.promptWindow ?? Math.max(512, 32 * o.batchSize);
    if (!Number.isInteger(window) || window < 1) throw new UserError(`promptWindow must be a positive integer, got ${window}`);
    const total = Array.isArray(prompts) ? prompts.length : undefined;
    const key = this.graphKey(o.lens);
    const lease = this.sessions.acquire(key, () => this.openSession(key, o.lens));
    try {
      let session: GraphSession | undefined;
      let finished = 0;
      let index = 0;
      for await (const chunk of windowsOf(prompts, window)) {
        // Tokenize and check this window's prompts before any of them runs.
        const items: PromptItem[] = chunk.map((p, i) => ({
          index: index + i,
          stream: typeof p === 'object' && p.stream !== undefined ? p.stream : index + i,
          ...this.promptIds(p, index + i, o.bos),
          ...this.targetOf(p, index + i, opts, o.queries.target),
        }));
        index += chunk.length;
        for (const it of items) {
          if (it.ids.length + Math.max(1, o.maxNew) - 1 > this.spec.maxPositions) {
            throw new UserError(
              `prompt ${it.index + 1} has ${it.ids.length} tokens; with --max-new-tokens ${o.maxNew} it needs ${it.ids.length + Math.max(1, o.maxNew) - 1} positions, ` +
                `more than the model's context of ${this.spec.maxPositions}; shorten the prompt or lower --max-new-tokens`,
            );
          }
        }
        session ??= await lease.session;
        // Batches of similar lengths waste less on padding; results still come out in input order.
        const order = o.sortByLength ? [...items].sort((a, b) => a.ids.length - b.ids.length || a.index - b.index) : items;
        const batches: PromptItem[][] = [];
        for (let start = 0; start < order.length; start += o.batchSize) batches.push(order.slice(start, start + o.batchSize));
        // This window's own cache buffers (concurrent profile() calls never share them), sized for its largest batch.
        let slots = 0;
        for (const b of batches) slots = Math.max(slots, b.length * cacheSlots(b, o.maxNew));
        const pool = new KvPool(slots * this.spec.nKvHeads * this.spec.headDim, session.inputNames.filter((n) => n.startsWith('past_key_values.')).length);
        const eos = new Set(this.spec.eosTokenIds.length ? this.spec.eosTokenIds : this.tokenizer?.eosIds ?? []);
        const ctx = { session, pool, embeddings: this.embeddings, spec: this.spec, wholePrompts: this.ropeDependsOnLength, eos };
        const ready = new Map<number, ProfileResult>();
        let next = items[0]?.index ?? 0;
        for (const batch of batches) {
          const results = await generateBatch(ctx, batch, o);
          for (const r of results) {
            r.completion = this.tokenizer ? (r.generatedIds.length ? this.tokenizer.decode(r.generatedIds) : '') : null;
            for (const [alias, name] of Object.entries(o.aliases)) r.metrics[alias] = r.metrics[name];
            if (o.windows !== undefined) {
              r.windows = {};
              for (const [name, m] of Object.entries(r.metrics)) r.windows[name] = windowMeans(m, o.windows);
            }
            ready.set(r.index, r);
          }
          finished += batch.length;
          opts.onProgress?.(finished, total);
          while (ready.has(next)) {
            yield ready.get(next)!;
            ready.delete(next++);
          }
        }
      }
    } finally {
      await lease.release();
    }
  }

  /** A prompt's target token (its own, else the options'), checked; none when the run has no targets. */
  private targetOf(p: PromptInput, index: number, opts: ProfileOptions, enabled: boolean): { target?: number } {
    const own = typeof p === 'object' ? p.target : undefined;
    if (own !== undefined && !enabled) {
      throw new UserError(`prompt ${index + 1} has a target, but the run was not set up for targets: pass targets: true (or a target for all prompts)`);
    }
    const t = own ?? opts.target;
    if (!enabled) return {};
    if (t === undefined) throw new UserError(`prompt ${index + 1} has no target; give one per prompt or a target for all (--target / --target-ids)`);
    return { target: this.targetId(t, `prompt ${index + 1}`) };
  }

  /** The token ids of a text, without BOS (empty without a tokenizer). */
  tokenIds(text: string): number[] {
    return this.tokenizer ? this.tokenizer.encode(text) : [];
  }

  /** A target as a token id: an id (checked against the vocabulary) or the first token of a text (no BOS). */
  targetId(t: string | number, where: string): number {
    if (typeof t === 'number') {
      if (!Number.isInteger(t) || t < 0 || t >= this.spec.vocabSize) throw new UserError(`${where}: target id ${t} is outside the vocabulary [0, ${this.spec.vocabSize})`);
      return t;
    }
    if (!this.tokenizer) throw new UserError(`${where}: a text target needs a tokenizer, and ${this.dir} has no tokenizer.json; give a token id (--target-ids)`);
    const ids = this.tokenizer.encode(t);
    if (ids.length === 0) throw new UserError(`${where}: target ${JSON.stringify(t)} tokenizes to nothing`);
    return ids[0];
  }

  /** Rows of the token embedding: the ids a prompt may hold. */
  get embeddingRows(): number {
    return this.embeddings.rows;
  }

  /** Decode one token id to text (for the human view); null without a tokenizer. */
  tokenText(id: number): string | null {
    return this.tokenizer ? this.tokenizer.decode([id]) : null;
  }

  async close(): Promise<void> {
    await this.sessions.close();
    this.embeddings.close();
  }
}
