/**
 * The decoder graph: one ONNX graph per (checkpoint, lens options) with a KV cache and the logit
 * lens of every block computed in the graph at the last position.
 *
 * Canonical weight names (exported by each architecture file; linear weights as [in, out]):
 *   embed.weight [V, e]                     token embeddings (also the unembedding when tied); e = d
 *                                           unless the model projects them (OPT's word_embed_proj_dim)
 *   embed_proj.weight [e, d]                optional projection of the token embeddings (OPT project_in)
 *   unembed_proj.weight [d, e]              optional projection before the unembedding (OPT project_out)
 *   pos_embed.weight [P, d]                 learned positions
 *   embed_norm.{weight,bias}                LayerNorm on the embeddings (Bloom)
 *   layers.{i}.attn_norm.{weight,bias}      norm before attention (or the shared block norm; with
 *                                           normPlacement 'post', the norm after the attention add)
 *   layers.{i}.mlp_norm.{weight,bias}       norm before the MLP (absent with a shared block norm;
 *                                           with normPlacement 'post', the norm after the MLP add)
 *   layers.{i}.post_attn_norm.weight, layers.{i}.post_mlp_norm.weight   Gemma-2 sandwich norms
 *   layers.{i}.attn.{q,k,v,o}.{weight,bias}
 *   layers.{i}.attn.{q,k}_norm.{weight,bias}   per-head q/k norm ([headDim] or [heads, headDim])
 *   layers.{i}.mlp.{gate,up,down}.{weight,bias}   gated MLPs use gate; plain MLPs up → act → down
 *   final_norm.{weight,bias}
 *   lm_head.weight [V, e], lm_head.bias [V]  (untied; the HF layout, used with Gemm transB)
 *
 * ALiBi (spec.positions = 'alibi') is one additive bias [batch, heads, 1, total] built once per
 * call from attention_mask (key position = cumsum(mask) − 1, as Hugging Face does) and shared by
 * every layer; spec.alibi.order says whether it is added before or after the 1/√d scale.
 *
 * The KV cache is static: the runtime keeps one buffer per layer of `slots` positions and passes it
 * whole at every step (no copy), and the graph returns only this call's keys and values, which the
 * runtime writes into the next free slots. Slot j holds cache index j (left padding included); slots
 * not yet written are masked out by attention_mask. A prefill is the same call with several new
 * positions (a prompt may come in spans, each attending to the earlier ones through the cache).
 *
 * Inputs: inputs_embeds [batch, seq, e] float (rows of embed.weight, looked up by the runtime so the
 * graph does not hold a second copy of a tied embedding), attention_mask [batch, slots + seq] int64
 * (which cache slots and new positions are real tokens), position_ids [batch, seq] int64,
 * past_length int64 scalar (slots already written = cache index of the first new position),
 * past_key_values.{i}.key|value [batch, kv_heads, slots, head_dim].
 * Outputs: new_key_values.{i}.key|value [batch, kv_heads, seq, head_dim] (this call's entries),
 * logits [batch, vocab] (last position), lens.{metric} [batch, layers], lens.argmax [batch, layers]
 * int64, and with topK > 0 lens.topk_ids / lens.topk_logprobs [batch, layers, k].
 */
import type { DecoderSpec, NormKind, RopeSpec } from '../models/types.js';
import { DT, GraphBuilder, type ExternalWeight } from './builder.js';
import type { Metric } from './metrics.js';

export interface Intervention {
  kind: 'scale' | 'skip';
  layer: number;
  /** Multiplier for 'scale'. */
  factor?: number;
}

export interface LensOptions {
  metrics: Metric[];
  /** 0 = no top-k outputs. */
  topK: number;
  /** Token ids for anchored metrics (sorted, unique). */
  anchorIds?: number[];
  interventions?: Intervention[];
  /**
   * The lens runs over the layers in this many groups (default 1), one unembedding Gemm each, all
   * sharing one pre-packed weight: the vocabulary-sized working buffers shrink by this factor, at
   * the price of one more read of the unembedding per group. Worth it once batch × layers per group
   * stays large enough (≳ 30 rows) for the Gemm to be compute-bound.
   */
  layerGroups?: number;
}

const NEG = -1e30;
const INT64_MAX = Number.MAX_SAFE_INTEGER;

export function buildDecoderGraph(
  spec: DecoderSpec,
  weights: Map<string, ExternalWeight>,
  externalFile: string,
  lens: LensOptions,
): Uint8Array {
  const d = new DecoderGraph(spec, new GraphBuilder(weights, externalFile), lens);
  d.build();
  return d.g.encode();
}

class DecoderGraph {
  private readonly masks = new Map<string, string>();
  private ropeCache = new Map<RopeSpec, { cos: string; sin: string }>();
  private alibiCache: string | undefined;
  private slotsCache: string | undefined;
  private inputsEmbeds!: string;
  private attentionMask!: string;
  private positionIds!: string;
  private seqLen!: string; // int64 scalar S
  private totalLen!: string; // int64 scalar T = slots + S
  private pastLength!: string; // int64 scalar P: cache index of the first new position

  constructor(
    private readonly spec: DecoderSpec,
    readonly g: GraphBuilder,
    private readonly lens: LensOptions,
  ) {}

  build(): void {
    const { g, spec } = this;
    const e = g.weightDims('embed.weight')[1];
    this.inputsEmbeds = g.input('inputs_embeds', DT.FLOAT, ['batch', 'seq', e]);
    this.attentionMask = g.input('attention_mask', DT.INT64, ['batch', 'total']);
    this.positionIds = g.input('position_ids', DT.INT64, ['batch', 'seq']);
    this.pastLength = g.input('past_length', DT.INT64, []);
    this.seqLen = g.op1('Gather', [g.op1('Shape', [this.inputsEmbeds], '/model/shape_embeds'), g.scalarI(1)], '/model/seq_len', { axis: 0 });
    this.totalLen = g.op1('Gather', [g.op1('Shape', [this.attentionMask], '/model/shape_mask'), g.scalarI(1)], '/model/total_len', { axis: 0 });

    let h = this.embed();
    const interventions = this.lens.interventions ?? [];
    const lastPositions: string[] = [];
    for (let l = 0; l < spec.nLayers; l++) {
      const skip = interventions.some((iv) => iv.kind === 'skip' && iv.layer === l);
      if (!skip) h = this.block(l, h);
      for (const iv of interventions) {
        if (iv.kind === 'scale' && iv.layer === l) h = g.mul(h, g.scalarF(iv.factor ?? 1), `/model/layers.${l}/intervention/scale`);
      }
      // [batch, 1, d]: the residual stream after block l at the last position
      lastPositions.push(g.slice(h, [-1], [INT64_MAX], [1], `/model/layers.${l}/last_position`));
    }
    const stacked = g.concat(lastPositions, 1, '/lens/stack'); // [batch, layers, d]
    this.lensHead(stacked);
  }

  // ---------------------------------------------------------------- embeddings

  private embed(): string {
    const { g, spec } = this;
    let h = this.inputsEmbeds; // [batch, seq, e]
    if (spec.embedScale !== undefined) h = g.mul(h, g.scalarF(spec.embedScale), '/model/embed_scale');
    if (g.hasWeight('embed_proj.weight')) h = g.linear(h, 'embed_proj.weight', undefined, '/model/project_in'); // [batch, seq, d]
    if (spec.positions === 'learned') {
      let pos = this.positionIds;
      if (spec.learnedPositionOffset) pos = g.add(pos, g.scalarI(spec.learnedPositionOffset), '/model/pos_offset');
      const pe = g.op1('Gather', [g.weight('pos_embed.weight'), pos], '/model/embed_positions', { axis: 0 });
      h = g.add(h, pe, '/model/embed_add_positions');
    }
    if (spec.embedNorm) h = this.norm(h, 'embed_norm', spec.norm.kind, spec.norm.eps, '/model/embed_norm');
    return h;
  }

  // ---------------------------------------------------------------- norms

  norm(x: string, prefix: string, kind: NormKind, eps: number, name: string): string {
    const { g } = this;
    const w = g.weight(`${prefix}.weight`);
    if (kind === 'layer') {
      const bias = g.hasWeight(`${prefix}.bias`) ? g.weight(`${prefix}.bias`) : g.constF(new Float32Array(g.weightDims(`${prefix}.weight`).reduce((a, b) => a * b, 1)), g.weightDims(`${prefix}.weight`));
      return g.op1('LayerNormalization', [x, w, bias], `${name}/LayerNorm`, { axis: -1, epsilon: { float: eps } });
    }
    // RMSNorm: x / sqrt(mean(x²) + eps) * w, in float32 as Hugging Face computes it
    const sq = g.mul(x, x, `${name}/Pow`);
    const ms = g.op1('ReduceMean', [sq, g.constI([-1])], `${name}/ReduceMean`, { keepdims: 1 });
    const rs = g.op1('Sqrt', [g.add(ms, g.scalarF(eps), `${name}/AddEps`)], `${name}/Sqrt`);
    const normed = g.mul(x, g.op1('Reciprocal', [rs], `${name}/Reciprocal`), `${name}/MulInv`);
    return g.mul(normed, w, `${name}/MulWeight`);
  }

  // ---------------------------------------------------------------- masks

  /** Additive attention bias [batch, 1, seq, total]: 0 where visible, -1e30 elsewhere. */
  private mask(window: number | null): string {
    const key = String(window);
    const hit = this.masks.get(key);
    if (hit) return hit;
    const { g } = this;
    const name = `/model/mask${window === null ? '' : `_window${window}`}`;
    // Cache indices: slot j is index j; the new positions are P … P + S − 1 (after the slots).
    const slots = g.sub(this.totalLen, this.seqLen, `${name}/slots`);
    const end = g.add(this.pastLength, this.seqLen, `${name}/end`);
    const qpos = g.op1('Range', [this.pastLength, end, g.scalarI(1)], `${name}/qpos`); // [seq]
    const slotPos = g.op1('Range', [g.scalarI(0), slots, g.scalarI(1)], `${name}/slot_pos`); // [slots]
    const kpos = g.concat([slotPos, qpos], 0, `${name}/kpos`); // [total]
    const q2 = g.unsqueeze(qpos, [1], `${name}/q2`); // [seq, 1]
    const k2 = g.unsqueeze(kpos, [0], `${name}/k2`); // [1, total]
    let allowed = g.op1('LessOrEqual', [k2, q2], `${name}/causal`); // [seq, total]
    if (window !== null) {
      const lo = g.sub(q2, g.scalarI(window), `${name}/lo`);
      allowed = g.op1('And', [allowed, g.op1('Greater', [k2, lo], `${name}/inwindow`)], `${name}/and_window`);
    }
    const pad = g.cast(g.unsqueeze(this.attentionMask, [1, 2], `${name}/mask4`), DT.BOOL, `${name}/mask_bool`); // [batch,1,1,total]
    const all = g.op1('And', [g.unsqueeze(allowed, [0, 1], `${name}/causal4`), pad], `${name}/and_pad`); // [batch,1,seq,total]
    const bias = g.op1('Where', [all, g.scalarF(0), g.scalarF(NEG)], `${name}/bias`);
    this.masks.set(key, bias);
    return bias;
  }

  // ---------------------------------------------------------------- rotary

  private ropeFor(layer: number): RopeSpec | null {
    const r = this.spec.rope;
    if (!r) return null;
    return Array.isArray(r) ? r[layer] ?? null : r;
  }

  /** cos, sin [batch, 1, seq, rotaryDim] (halves repeated, rotate_half convention). */
  private rotary(rope: RopeSpec): { cos: string; sin: string } {
    const hit = this.ropeCache.get(rope);
    if (hit) return hit;
    const { g } = this;
    const name = `/model/rotary${this.ropeCache.size}`;
    const pos = g.cast(this.positionIds, DT.FLOAT, `${name}/pos_float`); // [batch, seq]
    let invFreq = g.constF(rope.invFreq);
    if (rope.dynamic) invFreq = this.dynamicInvFreq(rope, name);
    if (rope.long) {
      // LongRoPE: the long factors once the longest position of this call passes the original context
      const maxPos = g.reduce('ReduceMax', this.positionIds, [0, 1], `${name}/maxpos`); // scalar int64
      const longer = g.op1('Greater', [g.add(maxPos, g.scalarI(1), `${name}/len`), g.scalarI(rope.long.originalMaxPositions)], `${name}/longer`);
      invFreq = g.op1('Where', [longer, g.constF(rope.long.invFreq), invFreq], `${name}/inv_freq`);
    }
    // freqs [batch, seq, rotaryDim/2] = pos ⊗ invFreq
    const freqs = g.mul(g.unsqueeze(pos, [2], `${name}/pos3`), invFreq, `${name}/freqs`);
    const emb = rope.interleaved
      ? g.reshape(g.op1('Expand', [g.unsqueeze(freqs, [3], `${name}/f4`), g.constI([1, 1, 1, 2])], `${name}/dup`), [0, 0, -1], `${name}/emb`)
      : g.concat([freqs, freqs], -1, `${name}/emb`);
    let cos = g.op1('Cos', [emb], `${name}/cos`);
    let sin = g.op1('Sin', [emb], `${name}/sin`);
    if (rope.attentionFactor !== undefined && rope.attentionFactor !== 1) {
      cos = g.mul(cos, g.scalarF(rope.attentionFactor), `${name}/cos_scale`);
      sin = g.mul(sin, g.scalarF(rope.attentionFactor), `${name}/sin_scale`);
    }
    const out = { cos: g.unsqueeze(cos, [1], `${name}/cos4`), sin: g.unsqueeze(sin, [1], `${name}/sin4`) };
    this.ropeCache.set(rope, out);
    return out;
  }

  /**
   * Dynamic NTK: with L = max position id + 1 of this call, when L > maxPositions the base becomes
   * base · (factor·L/maxPositions − (factor − 1))^(dim/(dim−2)).
   */
  private dynamicInvFreq(rope: RopeSpec, name: string): string {
    const { g } = this;
    const dyn = rope.dynamic!;
    const dim = rope.rotaryDim;
    const maxPos = g.reduce('ReduceMax', this.positionIds, [0, 1], `${name}/maxpos`); // scalar int64
    const L = g.cast(g.add(maxPos, g.scalarI(1), `${name}/len`), DT.FLOAT, `${name}/len_f`);
    const ratio = g.sub(g.mul(g.scalarF(dyn.factor / dyn.maxPositions), L, `${name}/r1`), g.scalarF(dyn.factor - 1), `${name}/r2`);
    const grown = g.mul(g.scalarF(dyn.base), g.op1('Pow', [ratio, g.scalarF(dim / (dim - 2))], `${name}/pow`), `${name}/grown`);
    const base = g.op1('Where', [g.op1('Greater', [L, g.scalarF(dyn.maxPositions)], `${name}/longer`), grown, g.scalarF(dyn.base)], `${name}/base`);
    const exps = g.constF(Array.from({ length: dim / 2 }, (_, i) => (2 * i) / dim));
    return g.op1('Reciprocal', [g.op1('Pow', [base, exps], `${name}/base_pow`)], `${name}/inv_freq`);
  }

  private applyRotary(x: string, rope: RopeSpec, headDim: number, name: string): string {
    const { g } = this;
    const { cos, sin } = this.rotary(rope);
    const rd = rope.rotaryDim;
    const rot = rd === headDim ? x : g.slice(x, [0], [rd], [3], `${name}/rot_part`);
    let rotated: string;
    if (rope.interleaved) {
      // pairs (x0, x1) → (−x1, x0)
      const pairs = g.reshape(rot, [0, 0, 0, rd / 2, 2], `${name}/pairs`);
      const x0 = g.slice(pairs, [0], [1], [4], `${name}/x0`);
      const x1 = g.slice(pairs, [1], [2], [4], `${name}/x1`);
      rotated = g.reshape(g.concat([g.op1('Neg', [x1], `${name}/neg`), x0], 4, `${name}/swap`), [0, 0, 0, rd], `${name}/rotated`);
    } else {
      const x1 = g.slice(rot, [0], [rd / 2], [3], `${name}/x1`);
      const x2 = g.slice(rot, [rd / 2], [rd], [3], `${name}/x2`);
      rotated = g.concat([g.op1('Neg', [x2], `${name}/neg`), x1], 3, `${name}/rotate_half`);
    }
    const out = g.add(g.mul(rot, cos, `${name}/mul_cos`), g.mul(rotated, sin, `${name}/mul_sin`), `${name}/rope`);
    if (rd === headDim) return out;
    const pass = g.slice(x, [rd], [INT64_MAX], [3], `${name}/pass_part`);
    return g.concat([out, pass], 3, `${name}/rope_concat`);
  }

  // ---------------------------------------------------------------- attention

  private attention(l: number, x: string): string {
    const { g, spec } = this;
    const p = `layers.${l}.attn`;
    const name = `/model/layers.${l}/attn`;
    const H = spec.nHeads;
    const KV = spec.nKvHeads;
    const hd = spec.headDim;
    let q = g.linear(x, `${p}.q.weight`, `${p}.q.bias`, `${name}/q_proj`);
    let k = g.linear(x, `${p}.k.weight`, `${p}.k.bias`, `${name}/k_proj`);
    const v = g.linear(x, `${p}.v.weight`, `${p}.v.bias`, `${name}/v_proj`);
    q = g.transpose(g.reshape(q, [0, 0, H, hd], `${name}/q_heads`), [0, 2, 1, 3], `${name}/q_t`); // [b, H, s, hd]
    k = g.transpose(g.reshape(k, [0, 0, KV, hd], `${name}/k_heads`), [0, 2, 1, 3], `${name}/k_t`); // [b, KV, s, hd]
    let vv = g.transpose(g.reshape(v, [0, 0, KV, hd], `${name}/v_heads`), [0, 2, 1, 3], `${name}/v_t`);
    if (spec.qkNorm) {
      q = this.headNorm(q, `${p}.q_norm`, `${name}/q_norm`);
      k = this.headNorm(k, `${p}.k_norm`, `${name}/k_norm`);
    }
    const rope = spec.positions === 'rope' ? this.ropeFor(l) : null;
    if (rope) {
      q = this.applyRotary(q, rope, hd, `${name}/q_rotary`);
      k = this.applyRotary(k, rope, hd, `${name}/k_rotary`);
    }
    const pastK = g.input(`past_key_values.${l}.key`, DT.FLOAT, ['batch', KV, 'slots', hd]);
    const pastV = g.input(`past_key_values.${l}.value`, DT.FLOAT, ['batch', KV, 'slots', hd]);
    // Only this call's entries leave the graph (as themselves, not copies); the runtime writes them
    // into its static cache.
    k = g.rename(k, `new_key_values.${l}.key`);
    vv = g.rename(vv, `new_key_values.${l}.value`);
    g.output(`new_key_values.${l}.key`, DT.FLOAT, ['batch', KV, 'seq', hd]);
    g.output(`new_key_values.${l}.value`, DT.FLOAT, ['batch', KV, 'seq', hd]);

    // Scores against the cache slots and against the new keys, side by side: the cache is read in
    // place, never concatenated with the new entries. Grouped queries: q viewed as [b, KV, rep·s, hd]
    // so each kv head serves its query group without copying K/V.
    const rep = H / KV;
    const qg = rep === 1 ? q : g.reshape(q, [0, KV, -1, hd], `${name}/q_groups`);
    const scoresPast = g.matmul(qg, g.transpose(pastK, [0, 1, 3, 2], `${name}/past_k_T`), `${name}/qk_past`);
    const scoresNew = g.matmul(qg, g.transpose(k, [0, 1, 3, 2], `${name}/k_T`), `${name}/qk_new`);
    let scores = g.concat([scoresPast, scoresNew], 3, `${name}/qk`); // [b, KV, rep·s, total]
    if (rep !== 1) scores = g.reshape(scores, [0, H, -1, 0], `${name}/scores_heads`); // [b, H, s, total]
    const scale = Array.isArray(spec.attnScale) ? spec.attnScale[l] : spec.attnScale;
    const alibi = spec.positions === 'alibi' ? this.alibiBias() : undefined; // [b, H, 1, total]
    if (alibi && spec.alibi!.order === 'add-before-scale') scores = g.add(scores, alibi, `${name}/alibi`);
    if (scale !== 1) scores = g.mul(scores, g.scalarF(scale), `${name}/scale`);
    if (alibi && spec.alibi!.order === 'add-after-scale') scores = g.add(scores, alibi, `${name}/alibi`);
    if (alibi && spec.alibi!.repeatedInMask) scores = g.add(scores, g.mul(alibi, g.scalarF(scale), `${name}/alibi_mask_scale`), `${name}/alibi_mask`);
    if (spec.attnSoftcap) {
      const c = g.scalarF(spec.attnSoftcap);
      scores = g.mul(g.op1('Tanh', [g.div(scores, c, `${name}/softcap_div`)], `${name}/softcap_tanh`), c, `${name}/softcap_mul`);
    }
    scores = g.add(scores, this.mask(spec.slidingWindow[l] ?? null), `${name}/mask`);
    let probs = g.op1('Softmax', [scores], `${name}/softmax`, { axis: -1 });
    if (rep !== 1) probs = g.reshape(probs, [0, KV, -1, 0], `${name}/probs_groups`);
    const split = this.slotCount1d();
    const probsPast = g.op1('Slice', [probs, g.constI([0]), split, g.constI([3])], `${name}/probs_past`);
    const probsNew = g.op1('Slice', [probs, split, g.constI([INT64_MAX]), g.constI([3])], `${name}/probs_new`);
    let ctx = g.add(g.matmul(probsPast, pastV, `${name}/pv_past`), g.matmul(probsNew, vv, `${name}/pv_new`), `${name}/pv`); // [b, KV, rep·s, hd]
    if (rep !== 1) ctx = g.reshape(ctx, [0, H, -1, hd], `${name}/ctx_heads`);
    ctx = g.reshape(g.transpose(ctx, [0, 2, 1, 3], `${name}/ctx_t`), [0, 0, H * hd], `${name}/ctx_merge`);
    return g.linear(ctx, `${p}.o.weight`, `${p}.o.bias`, `${name}/o_proj`);
  }

  /** [slots] as a 1-D int64 tensor: where the new positions start along the key axis. */
  private slotCount1d(): string {
    if (this.slotsCache) return this.slotsCache;
    const { g } = this;
    const slots = g.sub(this.totalLen, this.seqLen, '/model/cache/slots');
    this.slotsCache = g.unsqueeze(slots, [0], '/model/cache/slots_1d');
    return this.slotsCache;
  }

  /** ALiBi bias [batch, heads, 1, total] = slope_h · (cumsum(mask) − 1)·mask, built once per graph. */
  private alibiBias(): string {
    if (this.alibiCache) return this.alibiCache;
    const { g, spec } = this;
    const a = spec.alibi;
    if (!a || a.slopes.length !== spec.nHeads) throw new Error(`decoder spec: positions 'alibi' needs ${spec.nHeads} ALiBi slopes`);
    const name = '/model/alibi';
    const cums = g.op1('CumSum', [this.attentionMask, g.scalarI(1)], `${name}/cumsum`); // [b, total]
    const kpos = g.mul(g.sub(cums, g.scalarI(1), `${name}/minus1`), this.attentionMask, `${name}/keypos`);
    let pos = g.unsqueeze(g.cast(kpos, DT.FLOAT, `${name}/keypos_f`), [1, 2], `${name}/keypos4`); // [b, 1, 1, total]
    const slopes = a.bfloat16 ? a.slopes.map(roundBf16) : a.slopes;
    if (a.bfloat16) pos = this.roundToBf16(pos, `${name}/keypos_bf16`);
    let bias = g.mul(g.constF(slopes, [1, slopes.length, 1, 1]), pos, `${name}/bias`);
    if (a.bfloat16) bias = this.roundToBf16(bias, `${name}/bias_bf16`);
    this.alibiCache = bias;
    return bias;
  }

  private roundToBf16(x: string, name: string): string {
    return this.g.cast(this.g.cast(x, DT.BFLOAT16, `${name}/to_bf16`), DT.FLOAT, `${name}/to_f32`);
  }

  /** Norm over each head's vector; x is [b, heads, s, hd]. */
  private headNorm(x: string, prefix: string, name: string): string {
    const { g, spec } = this;
    const dims = g.weightDims(`${prefix}.weight`);
    if (dims.length === 1) return this.norm(x, prefix, spec.qkNorm!.kind, spec.qkNorm!.eps, name);
    // per-head weights [heads, hd] (StableLM): normalise with unit weights, then scale and shift per head
    const { kind, eps } = spec.qkNorm!;
    const unit = g.constF(new Float32Array(spec.headDim).fill(1));
    let y: string;
    if (kind === 'layer') {
      const zero = g.constF(new Float32Array(spec.headDim));
      y = g.op1('LayerNormalization', [x, unit, zero], `${name}/LayerNorm`, { axis: -1, epsilon: { float: eps } });
    } else {
      const ms = g.op1('ReduceMean', [g.mul(x, x, `${name}/Pow`), g.constI([-1])], `${name}/ReduceMean`, { keepdims: 1 });
      y = g.div(x, g.op1('Sqrt', [g.add(ms, g.scalarF(eps), `${name}/AddEps`)], `${name}/Sqrt`), `${name}/Div`);
    }
    const w4 = g.unsqueeze(g.weight(`${prefix}.weight`), [0, 2], `${name}/w4`); // [1, heads, 1, hd]
    y = g.mul(y, w4, `${name}/MulWeight`);
    if (g.hasWeight(`${prefix}.bias`)) y = g.add(y, g.unsqueeze(g.weight(`${prefix}.bias`), [0, 2], `${name}/b4`), `${name}/AddBias`);
    return y;
  }

  // ---------------------------------------------------------------- MLP and block

  private activation(x: string, name: string): string {
    const { g } = this;
    switch (this.spec.mlp.act) {
      case 'silu':
        return g.mul(x, g.op1('Sigmoid', [x], `${name}/sigmoid`), `${name}/silu`);
      case 'relu':
        return g.op1('Relu', [x], `${name}/relu`);
      // ONNX Gelu (opset 20): one fused kernel instead of a chain of element-wise ops
      case 'gelu':
        return g.op1('Gelu', [x], `${name}/gelu`);
      case 'gelu_tanh':
        return g.op1('Gelu', [x], `${name}/gelu`, { approximate: 'tanh' });
      case 'gelu_fast': {
        // 0.5·x·(1 + tanh(x·0.7978845608·(1 + 0.044715·x²)))
        const x2 = g.mul(x, x, `${name}/x2`);
        const inner = g.mul(g.mul(x, g.scalarF(0.7978845608), `${name}/kx`), g.add(g.mul(x2, g.scalarF(0.044715), `${name}/cx2`), g.scalarF(1), `${name}/one`), `${name}/inner`);
        const t = g.op1('Tanh', [inner], `${name}/tanh`);
        return g.mul(g.mul(x, g.scalarF(0.5), `${name}/half`), g.add(t, g.scalarF(1), `${name}/tanh_1`), `${name}/gelu`);
      }
      case 'gelu_quick':
        return g.mul(x, g.op1('Sigmoid', [g.mul(x, g.scalarF(1.702), `${name}/k`)], `${name}/sigmoid`), `${name}/gelu`);
    }
  }

  private mlp(l: number, x: string): string {
    const { g, spec } = this;
    const p = `layers.${l}.mlp`;
    const name = `/model/layers.${l}/mlp`;
    let hidden: string;
    if (spec.mlp.gated) {
      const gate = g.linear(x, `${p}.gate.weight`, `${p}.gate.bias`, `${name}/gate_proj`);
      const up = g.linear(x, `${p}.up.weight`, `${p}.up.bias`, `${name}/up_proj`);
      hidden = g.mul(this.activation(gate, `${name}/act`), up, `${name}/gate_mul`);
    } else {
      hidden = this.activation(g.linear(x, `${p}.up.weight`, `${p}.up.bias`, `${name}/up_proj`), `${name}/act`);
    }
    return g.linear(hidden, `${p}.down.weight`, `${p}.down.bias`, `${name}/down_proj`);
  }

  private block(l: number, x: string): string {
    const { g, spec } = this;
    const { kind, eps } = spec.norm;
    const name = `/model/layers.${l}`;
    const p = `layers.${l}`;
    if (spec.normPlacement === 'post') {
      // post-LN (OPT-350m): each norm follows its residual add
      const h = this.norm(g.add(x, this.attention(l, x), `${name}/residual_attn`), `${p}.attn_norm`, kind, eps, `${name}/self_attn_layer_norm`);
      return this.norm(g.add(h, this.mlp(l, h), `${name}/residual_mlp`), `${p}.mlp_norm`, kind, eps, `${name}/final_layer_norm`);
    }
    // Granite: each sublayer's output is multiplied by residual_multiplier before its residual add
    const toResidual = (v: string, what: string): string =>
      spec.residualScale === undefined ? v : g.mul(v, g.scalarF(spec.residualScale), `${name}/${what}_residual_scale`);
    const ln1 = this.norm(x, `${p}.attn_norm`, kind, eps, `${name}/input_layernorm`);
    if (spec.residual === 'parallel') {
      const attn = toResidual(this.attention(l, ln1), 'attn');
      const ln2 = spec.sharedBlockNorm ? ln1 : this.norm(x, `${p}.mlp_norm`, kind, eps, `${name}/post_attention_layernorm`);
      const mlp = toResidual(this.mlp(l, ln2), 'mlp');
      return g.add(g.add(x, attn, `${name}/residual_attn`), mlp, `${name}/residual_mlp`);
    }
    let attn = this.attention(l, ln1);
    if (spec.sandwichNorms) attn = this.norm(attn, `${p}.post_attn_norm`, kind, eps, `${name}/post_attention_layernorm`);
    const h = g.add(x, toResidual(attn, 'attn'), `${name}/residual_attn`);
    const ln2 = this.norm(h, `${p}.mlp_norm`, kind, eps, `${name}/pre_mlp_layernorm`);
    let mlp = this.mlp(l, ln2);
    if (spec.sandwichNorms) mlp = this.norm(mlp, `${p}.post_mlp_norm`, kind, eps, `${name}/post_mlp_layernorm`);
    return g.add(h, toResidual(mlp, 'mlp'), `${name}/residual_mlp`);
  }

  // ---------------------------------------------------------------- lens head

  /**
   * `x` unchanged (bit for bit, whatever the values), but only once every tensor in `deps` is
   * computed. ONNX has no control edges, and ONNX Runtime's sequential order ran every group's
   * large steps first and their small consumers (ArgMax, the final-logits Gather) last, so all
   * groups' [batch·rows, V] log-probabilities stayed alive to the end of the step. With each
   * group's unembedding waiting for all results of the group before it, one group's
   * vocabulary-sized buffers are alive at a time. GPT-2 small, batch 8 in 3 groups, measured:
   * peak RSS 704–717 → 683–697 MB; each ArgMax also reads its group's log-probabilities while
   * they are still in cache (0.8 instead of 1.3–1.6 ms per group in ONNX Runtime's profile).
   */
  private after(x: string, deps: string[], name: string): string {
    const { g } = this;
    const scalars = deps.map((t, i) => g.cast(g.op1('ReduceMax', [t], `${name}/max${i}`, { keepdims: 0 }), DT.FLOAT, `${name}/float${i}`));
    const any = scalars.length === 1 ? scalars[0] : g.op1('Sum', scalars, `${name}/sum`);
    return g.op1('Where', [g.cast(any, DT.BOOL, `${name}/cond`), x, x], name);
  }

  private lensHead(stacked: string): void {
    const { g, spec } = this;
    const L = spec.nLayers;
    const V = spec.vocabSize;
    const d = spec.dModel;
    let normed = spec.noFinalNorm ? stacked : this.norm(stacked, 'final_norm', spec.norm.kind, spec.norm.eps, '/lens/final_norm');
    let width = d;
    if (g.hasWeight('unembed_proj.weight')) {
      normed = g.linear(normed, 'unembed_proj.weight', undefined, '/lens/project_out');
      width = g.weightDims('unembed_proj.weight')[1];
    }
    const unembed = spec.tiedEmbeddings ? g.weight('embed.weight') : g.weight('lm_head.weight');
    const bias = g.hasWeight('lm_head.bias') ? g.weight('lm_head.bias') : undefined;
    const groups = layerGroups(L, this.lens.layerGroups ?? 1);
    // Top group first: its final-layer log-probabilities serve kl:final in the groups below, and
    // each group's first layer serves kl:next of the group under it.
    const parts: LensParts[] = [];
    let ctx: LensContext = {};
    let finalLogits = '';
    const kl = this.lens.metrics.filter((m) => m.kind === 'kl');
    const needs = { final: kl.some((m) => m.kind === 'kl' && m.target === 'final'), next: kl.some((m) => m.kind === 'kl' && m.target !== 'final') };
    let done: string[] = []; // the results of the group computed before this one
    for (let gi = groups.length - 1; gi >= 0; gi--) {
      const [a, b] = groups[gi];
      const name = groups.length === 1 ? '/lens' : `/lens/group${gi}`;
      const x = groups.length === 1 ? normed : g.slice(normed, [a], [b], [1], `${name}/layers`);
      let flat = g.reshape(x, [-1, width], `${name}/flatten`); // [batch·rows, e]
      if (done.length) flat = this.after(flat, done, `${name}/after_previous_group`);
      let logits = g.op1('Gemm', bias ? [flat, unembed, bias] : [flat, unembed], `${name}/lm_head/Gemm`, { transB: 1 }); // [batch·rows, V]
      if (spec.logitDivisor !== undefined) logits = g.div(logits, g.scalarF(spec.logitDivisor), `${name}/logits_scaling`);
      if (spec.finalSoftcap) {
        const c = g.scalarF(spec.finalSoftcap);
        logits = g.mul(g.op1('Tanh', [g.div(logits, c, `${name}/softcap_div`)], `${name}/softcap_tanh`), c, `${name}/softcap_mul`);
      }
      const logits3 = g.reshape(logits, [-1, b - a, V], `${name}/logits`); // [batch, rows, V]
      if (gi === groups.length - 1) finalLogits = g.op1('Gather', [logits3, g.scalarI(b - a - 1)], '/lens/final_logits', { axis: 1 }); // [batch, V]
      const m = new LensMetrics(g, b - a, this.lens, ctx, name);
      parts[gi] = m.build(logits3);
      ctx = {
        finalLp: needs.final ? ctx.finalLp ?? m.lastLayerLp() : undefined,
        nextLp: needs.next ? m.firstLayerLp() : undefined,
      };
      // everything this group computes, including the slices of its lp that the groups below read
      const p = parts[gi];
      done = [p.argmax, ...(p.topk ? [p.topk.logprobs, p.topk.ids] : []), ...p.metrics.values()];
      if (ctx.nextLp) done.push(ctx.nextLp);
      if (gi === groups.length - 1) done.push(finalLogits, ...(ctx.finalLp ? [ctx.finalLp] : []));
    }
    nameOutputs(g, lensOutputs(g, parts, L, V, this.lens, finalLogits));
    // The unembedding Gemms first in the node list (ONNX Runtime sorts the graph itself): ONNX
    // Runtime pre-packs weights in node order, each while its unpacked copy is still mapped, so
    // packing the largest matrix first keeps the load's peak at (all packed weights) + (one small
    // matrix) rather than + the unembedding. GPT-2 small: peak RSS while loading 716 → 576 MB. The
    // node list is therefore not in topological order, which ONNX Runtime accepts (onnx.checker
    // would not).
    const first = (n: GraphBuilder['nodes'][number]): boolean => n.opType === 'Gemm' && n.name!.endsWith('/lm_head/Gemm');
    const reordered = [...g.nodes.filter(first), ...g.nodes.filter((n) => !first(n))];
    g.nodes.length = 0;
    g.nodes.push(...reordered);
  }
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
  if (finalLogits) out.push({ name: 'logits', value: finalLogits, elemType: DT.FLOAT, shape: ['batch', V] });
  out.push({ name: 'lens.argmax', value: join(parts.map((p) => p.argmax), 'argmax'), elemType: DT.INT64, shape: ['batch', L] });
  if (lens.topK > 0) {
    out.push({ name: 'lens.topk_logprobs', value: join(parts.map((p) => p.topk!.logprobs), 'topk_logprobs'), elemType: DT.FLOAT, shape: ['batch', L, lens.topK] });
    out.push({ name: 'lens.topk_ids', value: join(parts.map((p) => p.topk!.ids), 'topk_ids'), elemType: DT.INT64, shape: ['batch', L, lens.topK] });
  }
  for (const m of lens.metrics) {
    out.push({ name: `lens.${m.name}`, value: join(parts.map((p) => p.metrics.get(m.name)!), m.name.replace(/:/g, '_')), elemType: DT.FLOAT, shape: ['batch', L] });
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
  metrics: Map<string, string>;
}

/** What a layer group needs from the groups above it: lp of the final layer and of the next layer, [batch, 1, V]. */
interface LensContext {
  finalLp?: string;
  nextLp?: string;
}

/**
 * The lens outputs from lens logits [batch, layers, V]: log-softmax, argmax, top-k and every
 * requested metric, each [batch, layers]. Used by the metric probe graph (one group).
 */
export function addLensOutputs(g: GraphBuilder, logits3: string, L: number, lens: LensOptions): void {
  nameOutputs(g, lensOutputs(g, [new LensMetrics(g, L, lens, {}, '/lens').build(logits3)], L, 0, lens));
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
    return parts;
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

/** float32 → bfloat16 → float32, round to nearest even (as torch's .bfloat16()). */
function roundBf16(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) & 0xffff0000;
  return f[0];
}
