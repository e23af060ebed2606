/**
 * The lens head of the decoder graph: from the residual stream after every block at the last
 * position, [batch, layers, d], through the model's final norm, optional output projection and
 * unembedding (with logit scaling and soft-capping as the model applies them) to the log-softmax of
 * every layer's lens logits, and from there to the lens outputs. All metric math lives here
 * (LensMetrics); graph/metric-names.ts only parses the names.
 *
 * Outputs: logits [batch, vocab] (the model's own, last layer), lens.argmax [batch, layers] int64,
 * lens.{metric} [batch, layers] float, and with topK > 0 lens.topk_ids [batch, layers, k] int64 and
 * lens.topk_logprobs [batch, layers, k].
 *
 * Adding an output: compute it per layer group in LensMetrics.build (into LensParts), join the
 * groups in lensOutputs; the probe graph (buildLensProbeGraph) then has it too, for tests.
 */
import type { DecoderSpec } from '../models/types.js';
import { DT, GraphBuilder, INT64_MAX } from './builder.js';
import type { Metric } from './metric-names.js';
import { applyNorm } from './norm.js';

import type { LensOptions } from './lens-options.js';
export type { Intervention, LensOptions } from './lens-options.js';

/**
 * `x` unchanged (bit for bit, whatever the values), but only once every tensor in `deps` is
 * computed. ONNX has no control edges, and ONNX Runtime's sequential order ran every group's
 * large steps first and their small consumers (ArgMax, the final-logits Gather) last, so all
 * groups' [batch·rows, V] log-probabilities stayed alive to the end of the step. With each
 * group's slice of the lens logits waiting for all results of the group before it, one group's
 * vocabulary-sized buffers are alive at a time. GPT-2 small, batch 8 in 3 groups, measured:
 * peak RSS 704–717 → 683–697 MB; each ArgMax also reads its group's log-probabilities while
 * they are still in cache (0.8 instead of 1.3–1.6 ms per group in ONNX Runtime's profile).
 * Applied to a small tensor (the slice's start), so the gate itself copies nothing large.
 */
function after(g: GraphBuilder, x: string, deps: string[], name: string): string {
  const scalars = deps.map((t, i) => g.cast(g.op1('ReduceMax', [t], `${name}/max${i}`, { keepdims: 0 }), DT.FLOAT, `${name}/float${i}`));
  const any = scalars.length === 1 ? scalars[0] : g.op1('Sum', scalars, `${name}/sum`);
  return g.op1('Where', [g.cast(any, DT.BOOL, `${name}/cond`), x, x], name);
}

/**
 * The lens head on `stacked` [rows, L, d]: per row (a batch row, or with `lens.positions` a
 * (batch row, position) pair) the residual stream of every lensed layer (with `lens.embeddings`
 * the input of block 0 first, then the output of every block): final norm, output projection,
 * one unembedding, logit scaling and soft-capping, the metrics per layer group, then the lens
 * outputs under their graph names. `runShape` ([batch, seq] int64) is needed with
 * `lens.positions`, where the model's `logits` are taken at each batch row's last position.
 */
export function addLensHead(g: GraphBuilder, spec: DecoderSpec, stacked: string, lens: LensOptions, L: number, runShape?: string): void {
  const V = spec.vocabSize;
  const d = spec.dModel;
  let normed = spec.noFinalNorm ? stacked : applyNorm(g, stacked, 'final_norm', spec.norm, '/lens/final_norm');
  let width = d;
  if (spec.embedProjection) {
    normed = g.linear(normed, 'unembed_proj.weight', undefined, '/lens/project_out');
    width = g.weightDims('unembed_proj.weight')[1];
  }
  const unembedName = spec.tiedEmbeddings ? 'embed.weight' : 'lm_head.weight';
  const quantized = g.isQuantized(unembedName);
  const bias = spec.bias?.lmHead ? g.weight('lm_head.bias') : undefined;
  const groups = layerGroups(L, lens.layerGroups ?? 1);
  // Top group first: its final-layer log-probabilities serve kl:final in the groups below, and
  // each group's first layer serves kl:next of the group under it.
  const parts: LensParts[] = [];
  let ctx: LensContext = {};
  let finalLogits = '';
  const kl = lens.metrics.filter((m) => m.kind === 'kl');
  const needs = {
    final: kl.some((m) => m.kind === 'kl' && m.target === 'final'),
    next: kl.some((m) => m.kind === 'kl' && m.target !== 'final'),
    rank: lens.metrics.some((m) => m.kind === 'rank'),
  };
  const queryIds = queryInput(g, lens);
  // One unembedding for all layers, [batch·rows·L, V]: ONNX Runtime pre-packs a weight once per node
  // that reads it (and then keeps one copy), so a Gemm per group paid the unembedding's packing once
  // per group at every load — GPT-2 small, batch 8 (3 groups): 2.1 s instead of 0.6 s. What stays
  // per group is everything vocabulary-sized after it (log-softmax, exp, the metrics).
  const flat = g.reshape(normed, [-1, width], '/lens/flatten'); // [batch·rows·L, e]
  // the float32 Gemm adds the bias itself; the int8 and 16-bit products are followed by an Add
  const plain = !quantized && !g.isHalf(unembedName);
  let logits: string;
  if (quantized) logits = g.quantizedMatMul(flat, unembedName, '/lens/lm_head/MatMulNBits');
  else if (!plain) logits = halfUnembedding(g, flat, unembedName, V, width);
  else logits = g.op1('Gemm', bias ? [flat, g.weight(unembedName), bias] : [flat, g.weight(unembedName)], '/lens/lm_head/Gemm', { transB: 1 });
  if (!plain && bias) logits = g.add(logits, bias, '/lens/lm_head/bias');
  if (spec.logitDivisor !== undefined) logits = g.div(logits, g.scalarF(spec.logitDivisor), '/lens/logits_scaling');
  if (spec.finalSoftcap) {
    const c = g.scalarF(spec.finalSoftcap);
    logits = g.mul(g.op1('Tanh', [g.div(logits, c, '/lens/softcap_div')], '/lens/softcap_tanh'), c, '/lens/softcap_mul');
  }
  const allLogits = g.reshape(logits, [-1, L, V], '/lens/logits'); // [batch·rows, L, V]
  let done: string[] = []; // the results of the group computed before this one
  for (let gi = groups.length - 1; gi >= 0; gi--) {
    const [a, b] = groups[gi];
    const name = groups.length === 1 ? '/lens' : `/lens/group${gi}`;
    // the group's layers, cut out only once the group before it is done (a slice is a copy)
    const start = done.length ? after(g, g.constI([a]), done, `${name}/after_previous_group`) : g.constI([a]);
    const logits3 = groups.length === 1 ? allLogits : g.op1('Slice', [allLogits, start, g.constI([b]), g.constI([1])], `${name}/logits`); // [batch·rows, b − a, V]
    if (gi === groups.length - 1) {
      finalLogits = g.op1('Gather', [logits3, g.scalarI(b - a - 1)], '/lens/final_logits', { axis: 1 }); // [rows, V]
      // the token the model itself ranks first: what a greedy step emits (first index on ties, as the sampler's argmax)
      if (needs.rank) ctx.finalToken = g.op1('ArgMax', [finalLogits], '/lens/final_token', { axis: -1, keepdims: 0 }); // [rows]
    }
    const m = new LensMetrics(g, b - a, lens, { ...ctx, queryIds }, name);
    parts[gi] = m.build(logits3);
    ctx = {
      finalLp: needs.final ? ctx.finalLp ?? m.lastLayerLp() : undefined,
      nextLp: needs.next ? m.firstLayerLp() : undefined,
      finalToken: ctx.finalToken,
    };
    // everything this group computes, including the slices of its lp that the groups below read
    const p = parts[gi];
    done = [p.argmax, ...(p.topk ? [p.topk.logprobs, p.topk.ids] : []), ...(p.query ? [p.query.logprob, p.query.rank] : []), ...p.metrics.values()];
    if (ctx.nextLp) done.push(ctx.nextLp);
    if (gi === groups.length - 1) done.push(finalLogits, ...(ctx.finalLp ? [ctx.finalLp] : []));
  }
  if (lens.positions) {
    // the model's own logits at each batch row's last position: [rows, V] → [batch, seq, V] → [batch, V]
    const perRow = g.op1('Reshape', [finalLogits, g.concat([runShape!, g.constI([V])], 0, '/lens/final_logits/shape')], '/lens/final_logits/by_position');
    finalLogits = g.squeeze(g.slice(perRow, [-1], [INT64_MAX], [1], '/lens/final_logits/last'), [1], '/lens/final_logits/last_position');
  }
  nameOutputs(g, lensOutputs(g, parts, L, V, lens, finalLogits));
  // The unembedding Gemms first in the node list (ONNX Runtime sorts the graph itself): ONNX
  // Runtime pre-packs weights in node order, each while its unpacked copy is still mapped, so
  // packing the largest matrix first keeps the load's peak at (all packed weights) + (one small
  // matrix) rather than + the unembedding. GPT-2 small: peak RSS while loading 716 → 576 MB. The
  // node list is therefore not in topological order, which ONNX Runtime accepts (onnx.checker
  // would not).
  const first = (n: GraphBuilder['nodes'][number]): boolean => (n.opType === 'Gemm' || n.opType === 'MatMulNBits') && /\/lm_head\/(Gemm|MatMulNBits)$/.test(n.name!);
  const reordered = [...g.nodes.filter(first), ...g.nodes.filter((n) => !first(n))];
  g.nodes.length = 0;
  g.nodes.push(...reordered);
}

/** Unembedding rows cast to float32 per block of a 16-bit unembedding: about 64 MB of float32 at a time. */
const HALF_UNEMBED_BLOCK_VALUES = 1 << 24;

/**
 * `flat` [n, e] times a 16-bit unembedding [V, e]ᵀ, a block of vocabulary rows at a time: each
 * block is cut and cast to float32 only after the previous block's product (so one block's float32
 * copy exists at a time, not the whole matrix — 2.1 GB for Llama-3-8B), then the blocks' logits are
 * joined. ONNX Runtime cannot pre-pack a weight that arrives through a Cast, so nothing is lost.
 */
export function halfUnembedding(g: GraphBuilder, flat: string, name: string, V: number, width: number, blockValues = HALF_UNEMBED_BLOCK_VALUES): string {
  const rows = Math.max(1, Math.floor(blockValues / width));
  const parts: string[] = [];
  let gate = flat;
  for (let r0 = 0; r0 < V; r0 += rows) {
    const r1 = Math.min(V, r0 + rows);
    gate = g.op1('Gemm', [flat, g.halfRows(name, r0, r1, gate)], `/lens/lm_head/rows_${r0}_${r1}/Gemm`, { transB: 1 });
    parts.push(gate);
  }
  return parts.length === 1 ? parts[0] : g.concat(parts, 1, '/lens/lm_head/join');
}

/** A lens output: its graph output name, the tensor that holds it, its type and shape. */
interface LensOutput {
  name: string;
  value: string;
  elemType: (typeof DT)[keyof typeof DT];
  shape: (number | string)[];
}

/**
 * The groups' results joined along the layer axis, as the graph's lens outputs: `logits` (when the
 * final logits are given), lens.argmax, lens.topk_logprobs / lens.topk_ids, lens.{metric}.
 */
function lensOutputs(g: GraphBuilder, parts: LensParts[], L: number, V: number, lens: LensOptions, finalLogits?: string): LensOutput[] {
  const join = (values: string[], name: string): string => (values.length === 1 ? values[0] : g.concat(values, 1, `/lens/${name}/concat`));
  const out: LensOutput[] = [];
  // one lens row per batch row, or per (batch row, position) with lens.positions
  const rows = lens.positions ? 'lens_rows' : 'batch';
  if (finalLogits) out.push({ name: 'logits', value: finalLogits, elemType: DT.FLOAT, shape: ['batch', V] });
  out.push({ name: 'lens.argmax', value: join(parts.map((p) => p.argmax), 'argmax'), elemType: DT.INT64, shape: [rows, L] });
  if (lens.topK > 0) {
    out.push({ name: 'lens.topk_logprobs', value: join(parts.map((p) => p.topk!.logprobs), 'topk_logprobs'), elemType: DT.FLOAT, shape: [rows, L, lens.topK] });
    out.push({ name: 'lens.topk_ids', value: join(parts.map((p) => p.topk!.ids), 'topk_ids'), elemType: DT.INT64, shape: [rows, L, lens.topK] });
  }
  for (const m of lens.metrics) {
    out.push({ name: `lens.${m.name}`, value: join(parts.map((p) => p.metrics.get(m.name)!), m.name.replace(/:/g, '_')), elemType: DT.FLOAT, shape: [rows, L] });
  }
  if (lens.queries) {
    out.push({ name: 'lens.query_logprob', value: join(parts.map((p) => p.query!.logprob), 'query_logprob'), elemType: DT.FLOAT, shape: [rows, L, lens.queries] });
    out.push({ name: 'lens.query_rank', value: join(parts.map((p) => p.query!.rank), 'query_rank'), elemType: DT.FLOAT, shape: [rows, L, lens.queries] });
  }
  return out;
}

/** Each output under its graph name (an Identity from the tensor that holds it). */
function nameOutputs(g: GraphBuilder, outputs: LensOutput[]): void {
  for (const o of outputs) {
    g.nodes.push({ opType: 'Identity', name: `/out/${o.name}`, input: [o.value], output: [o.name] });
    g.output(o.name, o.elemType, o.shape);
  }
}

/** [start, end) layer ranges: `groups` near-equal consecutive groups (at most one layer each). */
export function layerGroups(L: number, groups: number): [number, number][] {
  const n = Math.max(1, Math.min(L, Math.floor(groups)));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([Math.round((i * L) / n), Math.round(((i + 1) * L) / n)]);
  return out;
}

/** Per-group lens results, each [batch, layers of the group (, k)]. */
interface LensParts {
  argmax: string;
  topk?: { logprobs: string; ids: string };
  /** The asked-about tokens' log-probabilities and ranks, [rows, layers of the group, Q]. */
  query?: { logprob: string; rank: string };
  metrics: Map<string, string>;
}

/** What a layer group needs from the groups above it: lp of the final layer and of the next layer, [batch, 1, V]. */
interface LensContext {
  finalLp?: string;
  nextLp?: string;
  /** The final layer's top token per row [rows] int64 (for rank:final). */
  finalToken?: string;
  /** Token ids asked about per row [rows, Q] int64. */
  queryIds?: string;
}

/**
 * The lens outputs from lens logits [batch, layers, V]: log-softmax, argmax, top-k and every
 * requested metric, each [batch, layers]. Used by the metric probe graph (one group).
 */
export function addLensOutputs(g: GraphBuilder, logits3: string, L: number, lens: LensOptions): void {
  const last = g.op1('Gather', [logits3, g.scalarI(L - 1)], '/lens/final_logits', { axis: 1 });
  const finalToken = lens.metrics.some((m) => m.kind === 'rank') ? g.op1('ArgMax', [last], '/lens/final_token', { axis: -1, keepdims: 0 }) : undefined;
  const ctx: LensContext = { finalToken, queryIds: queryInput(g, lens) };
  nameOutputs(g, lensOutputs(g, [new LensMetrics(g, L, lens, ctx, '/lens').build(logits3)], L, 0, lens));
}

/** The `lens_query_ids` input [batch, lens positions, Q] as [rows, Q], when the lens asks about tokens. */
function queryInput(g: GraphBuilder, lens: LensOptions): string | undefined {
  if (!lens.queries) return undefined;
  return g.reshape(g.input('lens_query_ids', DT.INT64, ['batch', 'lens_positions', lens.queries]), [-1, lens.queries], '/lens/query_ids');
}

/** A graph whose input is `logits` [batch, layers, V] and whose outputs are the lens metrics (for tests and checks). */
export function buildLensProbeGraph(V: number, L: number, lens: LensOptions): Uint8Array {
  const g = new GraphBuilder(new Map(), 'unused.bin');
  const logits = g.input('lens_logits', DT.FLOAT, ['batch', L, V]);
  addLensOutputs(g, logits, L, lens);
  return g.encode();
}

/**
 * The lens reductions over [batch, layers, V]. Every full-vocabulary pass costs as much as a small
 * matmul, so intermediate quantities shared by several metrics (p, p·log p, Σp², the argmax) are
 * built once, on first use.
 */
class LensMetrics {
  private readonly memo = new Map<string, string>();
  private lp = '';

  constructor(
    private readonly g: GraphBuilder,
    private readonly L: number,
    private readonly lens: LensOptions,
    private readonly ctx: LensContext,
    /** Node-name prefix of this group. */
    private readonly p: string,
  ) {}

  /** lp of this group's last layer [b, 1, V]. */
  lastLayerLp(): string {
    return this.once('lp_last', () => this.g.slice(this.lp, [this.L - 1], [this.L], [1], `${this.p}/lp_last`));
  }

  /** lp of this group's first layer [b, 1, V]. */
  firstLayerLp(): string {
    return this.once('lp_first', () => this.g.slice(this.lp, [0], [1], [1], `${this.p}/lp_first`));
  }

  private once(key: string, make: () => string): string {
    let v = this.memo.get(key);
    if (v === undefined) {
      v = make();
      this.memo.set(key, v);
    }
    return v;
  }

  /** p = exp(lp) */
  private probs(): string {
    return this.once('p', () => this.g.op1('Exp', [this.lp], `${this.p}/probs`));
  }

  /** p · log p, element-wise */
  private plogp(): string {
    return this.once('plogp', () => this.g.mul(this.probs(), this.lp, `${this.p}/plogp`));
  }

  /**
   * Shannon entropy [b, L] = −Σ p·lp, as one batched dot product per distribution (MatMul of
   * [b, L, 1, V] by [b, L, V, 1]): no third vocabulary-sized buffer beside lp and p, which at
   * batch 8 on a 50k vocabulary is ~19 MB less working memory per step.
   */
  private shannon(): string {
    return this.once('shannon', () => {
      const { g } = this;
      const row = g.unsqueeze(this.probs(), [2], `${this.p}/shannon/p_row`); // [b, L, 1, V]
      const col = g.unsqueeze(this.lp, [3], `${this.p}/shannon/lp_col`); // [b, L, V, 1]
      const dot = g.squeeze(g.matmul(row, col, `${this.p}/shannon/dot`), [2, 3], `${this.p}/shannon/sum`); // [b, L]
      return g.op1('Neg', [dot], `${this.p}/shannon/neg`);
    });
  }

  /** Σ p² [b, L] */
  private sumSquares(): string {
    return this.once('sumsq', () => this.g.reduce('ReduceSumSquare', this.probs(), [-1], `${this.p}/sum_p2`));
  }

  /** the argmax [b, L] int64 */
  private argmax(): string {
    return this.once('argmax', () => this.g.op1('ArgMax', [this.lp], `${this.p}/argmax`, { axis: -1, keepdims: 0 }));
  }

  build(logits3: string): LensParts {
    const { g, lens } = this;
    this.lp = g.op1('LogSoftmax', [logits3], `${this.p}/log_softmax`, { axis: -1 });
    const parts: LensParts = { argmax: this.argmax(), metrics: new Map() };
    if (lens.topK > 0) {
      const [logprobs, ids] = g.op('TopK', [this.lp, g.constI([lens.topK])], `${this.p}/topk`, { axis: -1, largest: 1, sorted: 1 }, 2);
      parts.topk = { logprobs, ids };
    }
    for (const m of lens.metrics) parts.metrics.set(m.name, this.metric(m, logits3));
    if (lens.queries && this.ctx.queryIds) {
      const logprobs: string[] = [];
      const ranks: string[] = [];
      for (let q = 0; q < lens.queries; q++) {
        const ids = g.slice(this.ctx.queryIds, [q], [q + 1], [1], `${this.p}/query${q}/ids`); // [rows, 1]
        const at = this.lpAt(ids, `${this.p}/query${q}`);
        logprobs.push(g.unsqueeze(at.lp, [2], `${this.p}/query${q}/lp`));
        ranks.push(g.unsqueeze(at.rank, [2], `${this.p}/query${q}/rank`));
      }
      const join = (xs: string[], n: string): string => (xs.length === 1 ? xs[0] : g.concat(xs, 2, `${this.p}/query/${n}`));
      parts.query = { logprob: join(logprobs, 'logprob'), rank: join(ranks, 'rank') };
    }
    return parts;
  }

  /**
   * A token per row, `ids` [rows, 1] int64: its log-probability at every layer of the group and its
   * rank, the number of tokens the lens gives a strictly higher log-probability (0 = top; a tie
   * with the top counts as top), each [rows, layers].
   */
  private lpAt(ids: string, name: string): { lp: string; rank: string } {
    const { g } = this;
    // [rows, 1] → [rows, layers, 1]: the same id at every layer
    const shape = g.concat([g.slice(g.op1('Shape', [this.lp], `${name}/lp_shape`), [0], [2], [0], `${name}/rows_layers`), g.constI([1])], 0, `${name}/index_shape`);
    const idx = g.op1('Expand', [g.unsqueeze(ids, [1], `${name}/ids3`), shape], `${name}/index`);
    const at = g.op1('GatherElements', [this.lp, idx], `${name}/gather`, { axis: 2 }); // [rows, layers, 1]
    const above = g.cast(g.op1('Greater', [this.lp, at], `${name}/above`), DT.FLOAT, `${name}/above_f`);
    return { lp: g.squeeze(at, [2], `${name}/logprob`), rank: g.reduce('ReduceSum', above, [-1], `${name}/count`) };
  }

  /** Rényi entropy of order α ≠ 1 from log-probabilities lp (general path). */
  private renyiOf(lp: string, alpha: number, name: string): string {
    const { g } = this;
    if (alpha === Infinity) return g.op1('Neg', [g.reduce('ReduceMax', lp, [-1], `${name}/max`)], `${name}/neg`);
    if (alpha === 0) {
      // log #{i : p_i > 1e-20}
      const keep = g.cast(g.op1('Greater', [lp, g.scalarF(Math.log(1e-20))], `${name}/above_eps`), DT.FLOAT, `${name}/count_f`);
      return g.op1('Log', [g.reduce('ReduceSum', keep, [-1], `${name}/count`)], `${name}/log`);
    }
    // log Σ p^α / (1 − α), with p^α = exp(α·lp): lp ≤ 0 and α > 0, so no overflow, and the largest
    // term is ≈ 1, so underflow of the tail cannot matter; cheaper than ReduceLogSumExp or Pow
    const sum = g.reduce('ReduceSum', this.powP(lp, alpha, name), [-1], `${name}/sum`);
    return g.mul(g.op1('Log', [sum], `${name}/log`), g.scalarF(1 / (1 - alpha)), `${name}/div`);
  }

  /** p^k element-wise from log-probabilities: exp(k·lp) (vectorised), p·p for k = 2 of the main lens. */
  private powP(lp: string, k: number, name: string): string {
    const { g } = this;
    if (k === 2 && lp === this.lp) return this.once('p2', () => g.mul(this.probs(), this.probs(), `${this.p}/p2`));
    return g.op1('Exp', [g.mul(lp, g.scalarF(k), `${name}/k_lp`)], `${name}/pk`);
  }

  private metric(m: Metric, logits3: string): string {
    const { g, L } = this;
    const lp = this.lp;
    const name = `${this.p}/${m.name.replace(/:/g, '_')}`;
    switch (m.kind) {
      case 'shannon':
        return this.shannon();
      case 'renyi':
        if (m.alpha === 2) return g.op1('Neg', [g.op1('Log', [this.sumSquares()], `${name}/log`)], `${name}/neg`);
        if (m.alpha === Infinity) {
          // −log max p = −lp at the argmax (already computed)
          const at = g.op1('GatherElements', [lp, g.unsqueeze(this.argmax(), [2], `${name}/idx`)], `${name}/gather`, { axis: 2 });
          return g.op1('Neg', [g.squeeze(at, [2], `${name}/squeeze`)], `${name}/neg`);
        }
        return this.renyiOf(lp, m.alpha, name);
      case 'moment': {
        const sum = m.k === 2 ? this.sumSquares() : g.reduce('ReduceSum', this.powP(lp, m.k, name), [-1], `${name}/sum`);
        return g.div(sum, this.vocabSize(), `${name}/mean`);
      }
      case 'thresholded': {
        // only entries with p > mean(p) − std(p) (population std, per distribution) count; no
        // renormalisation. Two-pass variance: the threshold bites for near-uniform p, where
        // E[p²] − mean² would cancel catastrophically in float32.
        const pr = this.probs();
        const th = this.once('threshold', () => {
          const mean = g.op1('ReduceMean', [pr, g.constI([-1])], `${this.p}/threshold/mean`, { keepdims: 1 });
          const dev = g.sub(pr, mean, `${this.p}/threshold/dev`);
          const ss = g.op1('ReduceSumSquare', [dev, g.constI([-1])], `${this.p}/threshold/ss`, { keepdims: 1 });
          const std = g.op1('Sqrt', [g.div(ss, this.vocabSize(), `${this.p}/threshold/var`)], `${this.p}/threshold/std`);
          return g.op1('Greater', [pr, g.sub(mean, std, `${this.p}/threshold/th`)], `${this.p}/threshold/keep`);
        });
        // mask as 0/1 floats and multiply: vectorised, unlike Where with a broadcast scalar
        const mask = this.once('threshold_mask', () => g.cast(th, DT.FLOAT, `${this.p}/threshold/mask`));
        if (m.of === 'shannon') {
          const kept = g.mul(this.plogp(), mask, `${name}/kept`);
          return g.op1('Neg', [g.reduce('ReduceSum', kept, [-1], `${name}/sum`)], `${name}/neg`);
        }
        const pk = this.powP(lp, m.of.moment, name);
        const kept = g.mul(pk, mask, `${name}/kept`);
        return g.div(g.reduce('ReduceSum', kept, [-1], `${name}/sum`), this.vocabSize(), `${name}/mean_kept`);
      }
      case 'kl': {
        // KL(p_l ‖ q) = Σ p_l log p_l − Σ p_l log q = −H_l − Σ p_l log q
        const pr = this.probs();
        if (m.target === 'final') {
          const last = this.ctx.finalLp ?? this.lastLayerLp(); // [b, 1, V]
          const cross = g.reduce('ReduceSum', g.mul(pr, last, `${name}/p_lq`), [-1], `${name}/cross`);
          return g.op1('Neg', [g.add(this.shannon(), cross, `${name}/sum`)], `${name}/neg`);
        }
        // q = the next layer: inside the group, then across its top edge (the group above's first
        // layer); the model's last layer has no next one and gets 0.
        const crosses: string[] = [];
        if (L > 1) {
          const pc = g.slice(pr, [0], [L - 1], [1], `${name}/pcur`);
          const nxt = g.slice(lp, [1], [L], [1], `${name}/next`);
          crosses.push(g.reduce('ReduceSum', g.mul(pc, nxt, `${name}/p_lq`), [-1], `${name}/cross`)); // [b, L−1]
        }
        if (this.ctx.nextLp) {
          const top = g.slice(pr, [L - 1], [L], [1], `${name}/ptop`);
          crosses.push(g.reduce('ReduceSum', g.mul(top, this.ctx.nextLp, `${name}/p_lq_edge`), [-1], `${name}/cross_edge`)); // [b, 1]
        }
        const h = this.ctx.nextLp ? this.shannon() : L > 1 ? g.slice(this.shannon(), [0], [L - 1], [1], `${name}/h`) : undefined;
        if (!h) return g.mul(this.shannon(), g.scalarF(0), `${name}/zero`);
        const cross = crosses.length === 1 ? crosses[0] : g.concat(crosses, 1, `${name}/cross_all`);
        const kl = g.op1('Neg', [g.add(h, cross, `${name}/sum`)], `${name}/neg`);
        return this.ctx.nextLp ? kl : g.op1('Pad', [kl, g.constI([0, 0, 0, 1])], `${name}/pad_last`, { mode: 'constant' });
      }
      case 'rank': {
        if (!this.ctx.finalToken) throw new Error('rank:final needs the final token');
        return this.lpAt(g.unsqueeze(this.ctx.finalToken, [1], `${name}/ids`), name).rank;
      }
      case 'anchored': {
        const ids = this.lens.anchorIds;
        if (!ids || ids.length === 0) throw new Error(`metric ${m.name} needs anchor ids`);
        const sub = g.op1('Gather', [logits3, g.constI(ids)], `${name}/gather`, { axis: 2 }); // [b, L, A]
        const alp = g.op1('LogSoftmax', [sub], `${name}/log_softmax`, { axis: -1 });
        if (m.alpha === 1) {
          const ap = g.op1('Exp', [alp], `${name}/probs`);
          return g.op1('Neg', [g.reduce('ReduceSum', g.mul(ap, alp, `${name}/plogp`), [-1], `${name}/sum`)], `${name}/neg`);
        }
        return this.renyiOf(alp, m.alpha, name);
      }
    }
  }

  /** V as a float scalar, from the shape of lp (the graph does not know V statically in probes). */
  private vocabSize(): string {
    return this.once('V', () => this.g.cast(this.g.op1('Gather', [this.g.op1('Shape', [this.lp], `${this.p}/shape`), this.g.scalarI(2)], `${this.p}/V`, { axis: 0 }), DT.FLOAT, `${this.p}/V_f`));
  }
}
