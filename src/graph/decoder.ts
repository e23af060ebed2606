/**
 * The decoder graph: one ONNX graph per (checkpoint, lens options) with a KV cache and the logit
 * lens of every block computed in the graph at the last position.
 *
 * Canonical weight names (exported by each architecture file; linear weights as [in, out]):
 *   embed.weight [V, e]                     token embeddings (also the unembedding when tied); e = d
 *                                           unless the model projects them (OPT's word_embed_proj_dim)
 *   embed_proj.weight [e, d]                projection of the token embeddings (OPT project_in), with
 *   unembed_proj.weight [d, e]              projection before the unembedding (OPT project_out): spec.embedProjection
 *   pos_embed.weight [P, d]                 learned positions
 *   embed_norm.{weight,bias}                LayerNorm on the embeddings (Bloom)
 *   layers.{i}.attn_norm.{weight,bias}      norm before attention (or the shared block norm; with
 *                                           normPlacement 'post', the norm after the attention add)
 *   layers.{i}.mlp_norm.{weight,bias}       norm before the MLP (absent with a shared block norm;
 *                                           with normPlacement 'post', the norm after the MLP add)
 *   layers.{i}.post_attn_norm.weight, layers.{i}.post_mlp_norm.weight   Gemma-2 sandwich norms
 *   layers.{i}.attn.{q,k,v,o}.{weight,bias}
 *   layers.{i}.attn.qkv.{weight,bias}       q, k and v fused (spec.fusedQkv), instead of attn.{q,k,v}
 *   layers.{i}.attn.{q,k}_norm.{weight,bias}   per-head q/k norm ([headDim] or [heads, headDim])
 *   layers.{i}.mlp.{gate,up,down}.{weight,bias}   gated MLPs use gate; plain MLPs up → act → down
 *   final_norm.{weight,bias}
 *   lm_head.weight [V, e], lm_head.bias [V]  (untied; the HF layout, used with Gemm transB)
 *
 * The spec says which of the optional ones exist, never their presence: linear biases by spec.bias
 * (qkv, o, mlp, lmHead), LayerNorm biases unless norm.bias / qkNorm.bias is false, the projections
 * by embedProjection, and the norms by embedNorm, sandwichNorms, qkNorm, sharedBlockNorm and
 * noFinalNorm. The graph reads exactly the declared weights: one not exported fails in
 * GraphBuilder.weight(), one exported but not read fails after the build (checkAllWeightsRead),
 * either naming the tensor.
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
 * and the lens head's (graph/lens-head.ts): logits [batch, vocab] (last position), lens.{metric}
 * [batch, layers], lens.argmax [batch, layers] int64, and with topK > 0 lens.topk_ids /
 * lens.topk_logprobs [batch, layers, k]. With lens.positions every position is lensed and the lens
 * outputs have batch·seq rows (row-major: batch row, then position); with lens.embeddings the
 * input of block 0 is a first lensed layer; with lens.queries the input lens_query_ids gives token
 * ids whose log-probability and rank come back as lens.query_logprob / lens.query_rank.
 */
import { normHasBias, type DecoderSpec, type NormSpec, type RopeSpec } from '../models/types.js';
import { DT, GraphBuilder, INT64_MAX, type ExternalWeight } from './builder.js';
import { addLensHead, type Intervention, type LensOptions } from './lens-head.js';
import { applyNorm } from './norm.js';

const NEG = -1e30;

export function buildDecoderGraph(
  spec: DecoderSpec,
  weights: Map<string, ExternalWeight>,
  location: string | ((w: ExternalWeight) => string),
  lens: LensOptions,
): Uint8Array {
  const d = new DecoderGraph(spec, new GraphBuilder(weights, location), lens);
  d.build();
  checkAllWeightsRead(d.g, spec, lens);
  return d.g.encode();
}

/** Weights the runtime reads itself: the token embedding rows (inputs_embeds). */
const RUNTIME_WEIGHTS = new Set(['embed.weight']);

/**
 * The weight-name contract, the direction the graph cannot see while it is built: every exported
 * weight is read (by the graph, or by the runtime). A weight exported but not read means the spec
 * and the architecture's export disagree (a feature flag not set, a tensor mapped to a wrong
 * name); the other direction, a declared weight not exported, fails in GraphBuilder.weight().
 */
function checkAllWeightsRead(g: GraphBuilder, spec: DecoderSpec, lens: LensOptions): void {
  // a skipped block (an intervention) reads none of its weights
  const skipped = (lens.interventions ?? []).filter((iv) => iv.kind === 'skip').map((iv) => `layers.${iv.layer}.`);
  const unread = g.unreadWeights().filter((n) => !RUNTIME_WEIGHTS.has(n) && !skipped.some((p) => n.startsWith(p)));
  if (unread.length > 0) {
    const shown = unread.slice(0, 5).map((n) => `'${n}'`).join(', ');
    throw new Error(
      `weight contract: the ${spec.modelType} architecture exported ${shown}${unread.length > 5 ? ` and ${unread.length - 5} more` : ''}, ` +
        'which the graph does not read; its spec does not declare them (see the weight names in graph/decoder.ts)',
    );
  }
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
    const positions = this.lens.positions === true;
    // What the lens reads of the residual stream h [batch, seq, d]: the last position, [batch, 1, d],
    // or with lens.positions every position, [batch, seq, 1, d].
    const lensed: string[] = [];
    const take = (x: string, name: string): void => {
      lensed.push(positions ? g.unsqueeze(x, [2], `${name}/all_positions`) : g.slice(x, [-1], [INT64_MAX], [1], `${name}/last_position`));
    };
    if (this.lens.embeddings) take(h, '/model/embed');
    for (let l = 0; l < spec.nLayers; l++) {
      const skip = interventions.some((iv) => iv.kind === 'skip' && iv.layer === l);
      if (!skip) h = this.block(l, h);
      for (const iv of interventions) {
        if (iv.layer !== l) continue;
        if (iv.kind === 'scale') h = g.mul(h, g.scalarF(iv.factor ?? 1), `/model/layers.${l}/intervention/scale`);
        if (iv.kind === 'add') h = g.add(h, g.constF(steeringVector(iv, spec.dModel)), `/model/layers.${l}/intervention/add`);
      }
      take(h, `/model/layers.${l}`);
    }
    const L = lensed.length;
    // [batch, layers, d], or [batch·seq, layers, d]: one lens row per batch row or per (row, position)
    const stacked = positions ? g.reshape(g.concat(lensed, 2, '/lens/stack'), [-1, L, spec.dModel], '/lens/rows') : g.concat(lensed, 1, '/lens/stack');
    const runShape = positions ? g.slice(g.op1('Shape', [this.inputsEmbeds], '/lens/run_shape_all'), [0], [2], [0], '/lens/run_shape') : undefined;
    addLensHead(g, spec, stacked, this.lens, L, runShape);
  }

  // ---------------------------------------------------------------- embeddings

  private embed(): string {
    const { g, spec } = this;
    let h = this.inputsEmbeds; // [batch, seq, e]
    if (spec.embedScale !== undefined) h = g.mul(h, g.scalarF(spec.embedScale), '/model/embed_scale');
    if (spec.embedProjection) h = g.linear(h, 'embed_proj.weight', undefined, '/model/project_in'); // [batch, seq, d]
    if (spec.positions === 'learned') {
      let pos = this.positionIds;
      if (spec.learnedPositionOffset) pos = g.add(pos, g.scalarI(spec.learnedPositionOffset), '/model/pos_offset');
      const pe = g.op1('Gather', [g.weight('pos_embed.weight', pos), pos], '/model/embed_positions', { axis: 0 });
      h = g.add(h, pe, '/model/embed_add_positions');
    }
    if (spec.embedNorm) h = this.norm(h, 'embed_norm', spec.norm, '/model/embed_norm');
    return h;
  }

  // ---------------------------------------------------------------- norms

  private norm(x: string, prefix: string, norm: NormSpec, name: string): string {
    return applyNorm(this.g, x, prefix, norm, name);
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

  /** q [b, s, H·hd], k and v [b, s, KV·hd] from the fused weight, in the order spec.fusedQkv says. */
  private fusedQkv(x: string, l: number): string[] {
    const { g, spec } = this;
    const p = `layers.${l}.attn`;
    const name = `/model/layers.${l}/attn`;
    const { nHeads: H, nKvHeads: KV, headDim: hd } = spec;
    const y = g.linear(x, `${p}.qkv.weight`, spec.bias?.qkv === true ? `${p}.qkv.bias` : undefined, `${name}/qkv_proj`);
    if (spec.fusedQkv === 'blocks') return g.op('Split', [y, g.constI([H * hd, KV * hd, KV * hd])], `${name}/qkv_split`, { axis: -1 }, 3);
    // per key/value group: its H/KV query heads, its key, its value
    const rep = H / KV;
    const groups = g.reshape(y, [0, 0, KV, rep + 2, hd], `${name}/qkv_groups`);
    const [q, k, v] = g.op('Split', [groups, g.constI([rep, 1, 1])], `${name}/qkv_split`, { axis: 3 }, 3);
    return [g.reshape(q, [0, 0, H * hd], `${name}/q_flat`), g.reshape(k, [0, 0, KV * hd], `${name}/k_flat`), g.reshape(v, [0, 0, KV * hd], `${name}/v_flat`)];
  }

  private attention(l: number, x: string): string {
    const { g, spec } = this;
    const p = `layers.${l}.attn`;
    const name = `/model/layers.${l}/attn`;
    const H = spec.nHeads;
    const KV = spec.nKvHeads;
    const hd = spec.headDim;
    const qkvBias = spec.bias?.qkv === true;
    let [q, k, v] = spec.fusedQkv
      ? this.fusedQkv(x, l)
      : (['q', 'k', 'v'] as const).map((n) => g.linear(x, `${p}.${n}.weight`, qkvBias ? `${p}.${n}.bias` : undefined, `${name}/${n}_proj`));
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
    return g.linear(ctx, `${p}.o.weight`, spec.bias?.o ? `${p}.o.bias` : undefined, `${name}/o_proj`);
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
    if (dims.length === 1) return this.norm(x, prefix, spec.qkNorm!, name);
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
    if (normHasBias(spec.qkNorm!)) y = g.add(y, g.unsqueeze(g.weight(`${prefix}.bias`), [0, 2], `${name}/b4`), `${name}/AddBias`);
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
    const bias = (n: string): string | undefined => (spec.bias?.mlp ? `${p}.${n}.bias` : undefined);
    let hidden: string;
    if (spec.mlp.gated) {
      const gate = g.linear(x, `${p}.gate.weight`, bias('gate'), `${name}/gate_proj`);
      const up = g.linear(x, `${p}.up.weight`, bias('up'), `${name}/up_proj`);
      hidden = g.mul(this.activation(gate, `${name}/act`), up, `${name}/gate_mul`);
    } else {
      hidden = this.activation(g.linear(x, `${p}.up.weight`, bias('up'), `${name}/up_proj`), `${name}/act`);
    }
    return g.linear(hidden, `${p}.down.weight`, bias('down'), `${name}/down_proj`);
  }

  private block(l: number, x: string): string {
    const { g, spec } = this;
    const name = `/model/layers.${l}`;
    const p = `layers.${l}`;
    if (spec.normPlacement === 'post') {
      // post-LN (OPT-350m): each norm follows its residual add
      const h = this.norm(g.add(x, this.attention(l, x), `${name}/residual_attn`), `${p}.attn_norm`, spec.norm, `${name}/self_attn_layer_norm`);
      return this.norm(g.add(h, this.mlp(l, h), `${name}/residual_mlp`), `${p}.mlp_norm`, spec.norm, `${name}/final_layer_norm`);
    }
    // Granite: each sublayer's output is multiplied by residual_multiplier before its residual add
    const toResidual = (v: string, what: string): string =>
      spec.residualScale === undefined ? v : g.mul(v, g.scalarF(spec.residualScale), `${name}/${what}_residual_scale`);
    const ln1 = this.norm(x, `${p}.attn_norm`, spec.norm, `${name}/input_layernorm`);
    if (spec.residual === 'parallel') {
      const attn = toResidual(this.attention(l, ln1), 'attn');
      const ln2 = spec.sharedBlockNorm ? ln1 : this.norm(x, `${p}.mlp_norm`, spec.norm, `${name}/post_attention_layernorm`);
      const mlp = toResidual(this.mlp(l, ln2), 'mlp');
      return g.add(g.add(x, attn, `${name}/residual_attn`), mlp, `${name}/residual_mlp`);
    }
    let attn = this.attention(l, ln1);
    if (spec.sandwichNorms) attn = this.norm(attn, `${p}.post_attn_norm`, spec.norm, `${name}/post_attention_layernorm`);
    const h = g.add(x, toResidual(attn, 'attn'), `${name}/residual_attn`);
    const ln2 = this.norm(h, `${p}.mlp_norm`, spec.norm, `${name}/pre_mlp_layernorm`);
    let mlp = this.mlp(l, ln2);
    if (spec.sandwichNorms) mlp = this.norm(mlp, `${p}.post_mlp_norm`, spec.norm, `${name}/post_mlp_layernorm`);
    return g.add(h, toResidual(mlp, 'mlp'), `${name}/residual_mlp`);
  }
}

/** float32 → bfloat16 → float32, round to nearest even (as torch's .bfloat16()). */
/**
 * An 'add' intervention's float32 values: factor·vector rounded once from double precision, checked
 * to be d_model finite numbers (the CLI checks files earlier, with their names).
 */
function steeringVector(iv: Intervention, d: number): Float32Array {
  const v = iv.vector ?? [];
  if (v.length !== d) throw new Error(`steering vector after block ${iv.layer} has ${v.length} values; the model's residual stream has ${d}`);
  const f = iv.factor ?? 1;
  const out = Float32Array.from(v, (x) => x * f);
  if (!out.every(Number.isFinite)) throw new Error(`steering vector after block ${iv.layer}: factor × vector is not finite in float32`);
  return out;
}

function roundBf16(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) & 0xffff0000;
  return f[0];
}
