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
}

/** A prompt ready to run: its position in the input, its sampler stream, its token ids and text. */
export interface PromptItem {
  index: number;
  stream: number;
  ids: number[];
  text: string | null;
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
}

/** The token fed to the left padding and to rows that have stopped (masked out either way). */
const PAD_ID = 0;

/** Profile one batch: prefill, then decode steps until maxNew tokens (or every row stopped). Completions are left null. */
export async function generateBatch(ctx: BatchContext, batch: PromptItem[], o: BatchOptions): Promise<ProfileResult[]> {
  const run = new BatchRun(ctx, batch, o);
  // Each run's outputs are read at once and dropped: nothing may hold them during the next run,
  // whose start collects them (GraphSession.run) before that run's own outputs arrive.
  let next = run.collect(await run.prefill());
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

  constructor(
    private readonly ctx: BatchContext,
    batch: PromptItem[],
    private readonly o: BatchOptions,
  ) {
    const { spec } = ctx;
    const B = (this.B = batch.length);
    this.L = spec.nLayers;
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
    this.cache = new KvCache(ctx.pool, ctx.session.inputNames, B, spec.nKvHeads, cacheSlots(batch, o.maxNew), spec.headDim);
    this.results = batch.map((b) => ({
      index: b.index,
      prompt: b.text,
      inputIds: b.ids,
      generatedIds: [],
      completion: null,
      metrics: Object.fromEntries(o.metrics.map((m) => [m.name, [] as number[][]])),
      argmax: [],
      topk: o.topK > 0 ? { ids: [], probs: [] } : undefined,
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
   * prompt, each attending to the spans before it through the cache. Returns the outputs at every
   * row's last prompt position.
   */
  async prefill(): Promise<RunOutputs> {
    const { B, maxLen, cache, o } = this;
    const { session, embeddings } = this.ctx;
    const parts: RunOutputs[] = [];
    const rowsPerRun = Math.max(1, Math.floor(o.prefillTokens / maxLen));
    const span = rowsPerRun > 1 || this.ctx.wholePrompts ? maxLen : Math.min(maxLen, o.prefillTokens);
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
          ...(t0 === 0 ? cache.dummyFeeds(r1 - r0) : cache.feeds(r0, r1)),
        });
        cache.write(out, r0, t0, fresh);
        if (t1 === maxLen) parts.push(out); // the lens at the prompt's last position
      }
    }
    return parts.length === 1 ? parts[0] : concatRows(parts);
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
    const { B, L, o, results } = this;
    const logits = out.logits.data as Float32Array; // [B, V]
    const V = out.logits.dims[1];
    const argmax = out['lens.argmax'].data as BigInt64Array; // [B, L]
    const next = new Array<number>(B);
    for (let r = 0; r < B; r++) {
      if (this.done[r]) {
        next[r] = PAD_ID;
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
      const tok = o.temperature > 0 ? this.samplers[r].sample(row, o.temperature) : argmaxOf(row);
      res.generatedIds.push(tok);
      next[r] = tok;
      if (o.stopAtEos && this.ctx.eos.has(tok)) this.done[r] = true;
    }
    return next;
  }
}
