/**
 * One batch of prompts through the decoder graph: a left-padded prefill, then one decode step per
 * generated token; after each run the lens outputs are collected into the prompts' results and the
 * next tokens chosen (greedy or sampled).
 */
import type { Metric } from '../graph/metric-names.js';
import type { DecoderSpec } from '../models/types.js';
import type { EmbeddingReader } from '../runtime/embeddings.js';
import { KvCache, cacheSlots, concatRows, type KvPool } from '../runtime/kv-cache.js';
import type { GraphSession, RunOutputs } from '../runtime/session.js';
import { argmaxOf, Sampler } from './sampling.js';

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
  /**
   * With `positions` 'prompt' or 'all': the lens at every prompt position p (the text up to and
   * including token p), each array positions × layers; `next*` has a row for every position but the
   * last: the lens' log-probability and rank (0 = top) of the prompt's token p + 1.
   */
  positions?: PositionsResult;
  /** With a target token: its log-probability and rank at every step × layer. */
  target?: { id: number; logprob: number[][]; rank: number[][] };
}

/** The lens over a prompt's positions (see ProfileResult.positions). */
export interface PositionsResult {
  ids: number[];
  metrics: Record<string, number[][]>;
  argmax: number[][];
  topk?: { ids: number[][][]; probs: number[][][] };
  nextLogprob: number[][];
  nextRank: number[][];
}

/** A prompt ready to run: its position in the input, its sampler stream, its token ids and text. */
export interface PromptItem {
  index: number;
  stream: number;
  ids: number[];
  text: string | null;
  /** A token whose log-probability and rank the lens reports at every step and layer. */
  target?: number;
}

/** What a batch runs on: the session, this call's cache buffers, the embedding rows, the model. */
export interface BatchContext {
  session: GraphSession;
  pool: KvPool;
  embeddings: EmbeddingReader;
  spec: DecoderSpec;
  /**
   * Rotary parameters chosen per call from its longest position (LongRoPE, dynamic NTK) would
   * differ between spans of one prompt, unlike Hugging Face's one forward over the prompt: the
   * prefill then keeps each prompt whole.
   */
  wholePrompts: boolean;
  /** Tokens that end a prompt's generation with stopAtEos. */
  eos: Set<number>;
}

export interface BatchOptions {
  maxNew: number;
  temperature: number;
  seed: number;
  metrics: Metric[];
  topK: number;
  stopAtEos: boolean;
  prefillTokens: number;
  /** Layers the lens returns: the blocks, plus the embeddings first with lensEmbeddings. */
  lensLayers: number;
  /** Lens every prompt position (the graph was built with lens.positions). */
  positions: boolean;
  /** Prompt tokens per prefill run with `positions` (the lens' vocabulary-sized buffers grow with it). */
  positionTokens: number;
  /** The graph's query columns: the next prompt token (with positions), the target (with targets). */
  queries: { next: boolean; target: boolean };
}

/** The token fed to the left padding and to rows that have stopped (masked out either way). */
const PAD_ID = 0;

/** Profile one batch: prefill, then decode steps until maxNew tokens (or every row stopped). Completions are left null. */
export async function generateBatch(ctx: BatchContext, batch: PromptItem[], o: BatchOptions): Promise<ProfileResult[]> {
  const run = new BatchRun(ctx, batch, o);
  // Each run's outputs are read at once and dropped: nothing may hold them during the next run,
  // whose start collects them (GraphSession.run) before that run's own outputs arrive.
  const first = await run.prefill();
  if (o.maxNew === 0) return run.results;
  let next = run.collect(first);
  for (let step = 1; step < o.maxNew && !run.finished; step++) next = run.collect(await run.decodeStep(next));
  return run.results;
}

/** The state of one batch between runs: the padded prompts, the cache, the positions, the results so far. */
class BatchRun {
  readonly results: ProfileResult[];
  private readonly B: number;
  private readonly L: number;
  private readonly maxLen: number;
  /** Left-padded prefill inputs, [B, maxLen] each. */
  private readonly inputIds: Int32Array;
  private readonly promptMask: BigInt64Array;
  private readonly positions: BigInt64Array;
  /** Position id of each row's next token. */
  private readonly nextPos: number[] = [];
  private readonly cache: KvCache;
  private readonly samplers: Sampler[];
  private readonly done: boolean[];
  private readonly ones: BigInt64Array;
  /** Columns of lens_query_ids (0: the graph has no such input). */
  private readonly Q: number;
  /** Each row's target token (0 where it has none; its answers are not read). */
  private readonly targets: number[];
  /** Each row's left padding in the prefill. */
  private readonly offsets: number[];

  constructor(
    private readonly ctx: BatchContext,
    batch: PromptItem[],
    private readonly o: BatchOptions,
  ) {
    const B = (this.B = batch.length);
    this.L = o.lensLayers;
    this.Q = (o.queries.next ? 1 : 0) + (o.queries.target ? 1 : 0);
    this.targets = batch.map((b) => b.target ?? 0);
    const maxLen = (this.maxLen = Math.max(...batch.map((b) => b.ids.length)));
    this.inputIds = new Int32Array(B * maxLen).fill(PAD_ID);
    this.promptMask = new BigInt64Array(B * maxLen);
    this.positions = new BigInt64Array(B * maxLen).fill(1n);
    batch.forEach((b, r) => {
      const off = maxLen - b.ids.length;
      b.ids.forEach((id, j) => {
        this.inputIds[r * maxLen + off + j] = id;
        this.promptMask[r * maxLen + off + j] = 1n;
        this.positions[r * maxLen + off + j] = BigInt(j);
      });
      this.nextPos.push(b.ids.length);
    });
    // The static cache: slot j of every row holds cache index j (the prompt, left-padded, then the
    // generated tokens); the last generated token is never fed back, so maxLen + maxNew − 1 slots.
    this.cache = new KvCache(ctx.pool, ctx.session.inputNames, B, ctx.spec.nKvHeads, cacheSlots(batch, o.maxNew), ctx.spec.headDim);
    this.offsets = batch.map((b) => maxLen - b.ids.length);
    this.results = batch.map((b) => ({
      index: b.index,
      prompt: b.text,
      inputIds: b.ids,
      generatedIds: [],
      completion: null,
      metrics: Object.fromEntries(o.metrics.map((m) => [m.name, [] as number[][]])),
      argmax: [],
      topk: o.topK > 0 ? { ids: [], probs: [] } : undefined,
      ...(o.positions
        ? {
            positions: {
              ids: b.ids,
              metrics: Object.fromEntries(o.metrics.map((m) => [m.name, [] as number[][]])),
              argmax: [],
              topk: o.topK > 0 ? { ids: [], probs: [] } : undefined,
              nextLogprob: [],
              nextRank: [],
            },
          }
        : {}),
      ...(b.target !== undefined ? { target: { id: b.target, logprob: [], rank: [] } } : {}),
    }));
    this.samplers = batch.map((b) => new Sampler(o.seed, b.stream));
    this.done = new Array<boolean>(B).fill(false);
    this.ones = new BigInt64Array(B).fill(1n);
  }

  /** Every row has stopped at its end-of-sequence token. */
  get finished(): boolean {
    return this.done.every(Boolean);
  }

  /**
   * The prompts through the graph, in chunks of about prefillTokens tokens (activations and the
   * returned cache entries scale with them): whole rows when several fit, else spans of one row's
   * prompt, each attending to the spans before it through the cache. With `positions` the chunks
   * hold positionTokens tokens (the lens runs at every position) and each chunk's lens is read into
   * the results at once. Returns the outputs at every row's last prompt position.
   */
  async prefill(): Promise<RunOutputs> {
    const { B, maxLen, cache, o } = this;
    const { session, embeddings } = this.ctx;
    const parts: RunOutputs[] = [];
    const tokens = o.positions ? o.positionTokens : o.prefillTokens;
    const rowsPerRun = Math.max(1, Math.floor(tokens / maxLen));
    const span = rowsPerRun > 1 || this.ctx.wholePrompts ? maxLen : Math.min(maxLen, tokens);
    for (let r0 = 0; r0 < B; r0 += rowsPerRun) {
      const r1 = Math.min(B, r0 + rowsPerRun);
      for (let t0 = 0; t0 < maxLen; t0 += span) {
        const t1 = Math.min(maxLen, t0 + span);
        const S = t1 - t0;
        const ids = new Int32Array((r1 - r0) * S);
        const pos = new BigInt64Array((r1 - r0) * S);
        const fresh = new BigInt64Array((r1 - r0) * S);
        for (let r = r0; r < r1; r++) {
          ids.set(this.inputIds.subarray(r * maxLen + t0, r * maxLen + t1), (r - r0) * S);
          pos.set(this.positions.subarray(r * maxLen + t0, r * maxLen + t1), (r - r0) * S);
          fresh.set(this.promptMask.subarray(r * maxLen + t0, r * maxLen + t1), (r - r0) * S);
        }
        // The first span has no past: one masked dummy slot stands in for the cache (a zero-length
        // past is not allowed, and attending to the whole empty cache would cost time).
        const past = t0 === 0 ? 1 : cache.slots;
        const out = await session.run({
          inputs_embeds: { type: 'float32', data: embeddings.lookup(ids), dims: [r1 - r0, S, embeddings.dim] },
          attention_mask: { type: 'int64', data: cache.mask(r0, r1, past, fresh), dims: [r1 - r0, past + S] },
          position_ids: { type: 'int64', data: pos, dims: [r1 - r0, S] },
          past_length: { type: 'int64', data: BigInt64Array.of(BigInt(t0)), dims: [] },
          // the lens reads the last position of the run, or every position of it
          ...this.queryFeeds(r0, r1, o.positions ? t0 : t1 - 1, t1),
          ...(t0 === 0 ? cache.dummyFeeds(r1 - r0) : cache.feeds(r0, r1)),
        });
        cache.write(out, r0, t0, fresh);
        if (o.positions) this.collectPositions(out, r0, r1, t0, t1);
        if (t1 === maxLen) parts.push(o.positions ? lastPositionRows(out, r1 - r0, S) : out); // the lens at the prompt's last position
      }
    }
    return parts.length === 1 ? parts[0] : concatRows(parts);
  }

  /**
   * lens_query_ids for rows [r0, r1) at padded positions [t0, t1) (a decode step: the one position
   * past the prompt and the tokens so far): the next prompt token where there is one, the target.
   */
  private queryFeeds(r0: number, r1: number, t0: number, t1: number): Record<string, { type: 'int64'; data: BigInt64Array; dims: number[] }> {
    const { Q, maxLen, o } = this;
    if (Q === 0) return {};
    const S = t1 - t0;
    const data = new BigInt64Array((r1 - r0) * S * Q);
    for (let r = r0; r < r1; r++) {
      for (let t = t0; t < t1; t++) {
        const at = ((r - r0) * S + (t - t0)) * Q;
        // the token after position t, while inside the prompt (left padding precedes it, so t + 1 is real)
        if (o.queries.next && t + 1 < maxLen) data[at] = BigInt(this.inputIds[r * maxLen + t + 1]);
        if (o.queries.target) data[at + Q - 1] = BigInt(this.targets[r]);
      }
    }
    return { lens_query_ids: { type: 'int64', data, dims: [r1 - r0, S, Q] } };
  }

  /** A positions run's lens, rows [r0, r1) × padded positions [t0, t1), into each row's positions result (padding skipped). */
  private collectPositions(out: RunOutputs, r0: number, r1: number, t0: number, t1: number): void {
    const S = t1 - t0;
    for (let r = r0; r < r1; r++) {
      const res = this.results[r].positions!;
      for (let t = Math.max(t0, this.offsets[r]); t < t1; t++) {
        const row = (r - r0) * S + (t - t0);
        this.readLens(out, row, res);
        if (t + 1 < this.maxLen) this.readQuery(out, row, 0, { logprob: res.nextLogprob, rank: res.nextRank });
      }
    }
  }

  /** Query column `col` of lens row `row` (log-probability and rank per layer) appended to `into`. */
  private readQuery(out: RunOutputs, row: number, col: number, into: { logprob: number[][]; rank: number[][] }): void {
    const { L, Q } = this;
    const lp = out['lens.query_logprob'].data as Float32Array;
    const rank = out['lens.query_rank'].data as Float32Array;
    into.logprob.push(Array.from({ length: L }, (_, l) => lp[(row * L + l) * Q + col]));
    into.rank.push(Array.from({ length: L }, (_, l) => rank[(row * L + l) * Q + col]));
  }

  /** Lens row `row` of a run's outputs (metrics, argmax, top-k) appended to `into`. */
  private readLens(out: RunOutputs, row: number, into: { metrics: Record<string, number[][]>; argmax: number[][]; topk?: { ids: number[][][]; probs: number[][][] } }): void {
    const { L, o } = this;
    for (const m of o.metrics) {
      const d = out[`lens.${m.name}`].data as Float32Array;
      into.metrics[m.name].push(Array.from(d.subarray(row * L, (row + 1) * L)));
    }
    const argmax = out['lens.argmax'].data as BigInt64Array;
    into.argmax.push(Array.from(argmax.subarray(row * L, (row + 1) * L), Number));
    if (into.topk) {
      const k = o.topK;
      const ids = out['lens.topk_ids'].data as BigInt64Array;
      const lps = out['lens.topk_logprobs'].data as Float32Array;
      const rowIds: number[][] = [];
      const rowProbs: number[][] = [];
      for (let l = 0; l < L; l++) {
        const off = (row * L + l) * k;
        rowIds.push(Array.from(ids.subarray(off, off + k), Number));
        rowProbs.push(Array.from(lps.subarray(off, off + k), (v) => Math.exp(v)));
      }
      into.topk.ids.push(rowIds);
      into.topk.probs.push(rowProbs);
    }
  }

  /** One new token per row (`next`), attending to the whole static cache in place. */
  async decodeStep(next: number[]): Promise<RunOutputs> {
    const { B, cache } = this;
    const { session, embeddings } = this.ctx;
    const out = await session.run({
      inputs_embeds: { type: 'float32', data: embeddings.lookup(next), dims: [B, 1, embeddings.dim] },
      attention_mask: { type: 'int64', data: cache.mask(0, B, cache.slots, this.ones), dims: [B, cache.slots + 1] },
      position_ids: { type: 'int64', data: BigInt64Array.from(this.nextPos, (p) => BigInt(p)), dims: [B, 1] },
      past_length: { type: 'int64', data: BigInt64Array.of(BigInt(cache.length)), dims: [] },
      ...this.queryFeeds(0, B, cache.length, cache.length + 1),
      ...cache.feeds(),
    });
    cache.write(out, 0, cache.length, this.ones);
    for (let r = 0; r < B; r++) this.nextPos[r] += 1;
    return out;
  }

  /**
   * One step's outputs into the results of the rows still running (metrics, argmax, top-k), and
   * each row's next token: the argmax of its logits, or a sample at the temperature; PAD_ID for
   * rows that have stopped.
   */
  collect(out: RunOutputs): number[] {
    const { B, o, results } = this;
    const logits = out.logits.data as Float32Array; // [B, V]
    const V = out.logits.dims[1];
    const next = new Array<number>(B);
    for (let r = 0; r < B; r++) {
      if (this.done[r]) {
        next[r] = PAD_ID;
        continue;
      }
      const res = results[r];
      this.readLens(out, r, res);
      if (res.target) this.readQuery(out, r, this.Q - 1, res.target); // the target is the last query column
      const row = logits.subarray(r * V, (r + 1) * V);
      const tok = o.temperature > 0 ? this.samplers[r].sample(row, o.temperature) : argmaxOf(row);
      res.generatedIds.push(tok);
      next[r] = tok;
      if (o.stopAtEos && this.ctx.eos.has(tok)) this.done[r] = true;
    }
    return next;
  }
}

/**
 * The outputs of a positions run reduced to each batch row's last position (what a run without
 * positions returns): lens rows r·S + S − 1; `logits` is already per batch row.
 */
function lastPositionRows(out: RunOutputs, rows: number, S: number): RunOutputs {
  const picked: RunOutputs = {};
  for (const [name, t] of Object.entries(out)) {
    if (!name.startsWith('lens.')) {
      picked[name] = t;
      continue;
    }
    const per = t.data.length / (rows * S);
    const data = t.data instanceof BigInt64Array ? new BigInt64Array(rows * per) : new Float32Array(rows * per);
    for (let r = 0; r < rows; r++) {
      const from = (r * S + S - 1) * per;
      if (data instanceof BigInt64Array) data.set((t.data as BigInt64Array).subarray(from, from + per), r * per);
      else data.set((t.data as Float32Array).subarray(from, from + per), r * per);
    }
    picked[name] = { data, dims: [rows, ...t.dims.slice(1)] };
  }
  return picked;
}
