/** The normalised model description (DecoderSpec, NormSpec, BiasSpec, RopeSpec, AlibiSpec) and the Architecture interface each model file implements. */
import type { Checkpoint, TensorResolver } from './checkpoint.js';
import type { TensorInfo } from './safetensors.js';

export type Activation = 'silu' | 'gelu' | 'gelu_tanh' | 'relu' | 'gelu_fast' | 'gelu_quick';

export type NormKind = 'rms' | 'layer';

/** A norm: RMSNorm (weight only) or LayerNorm, whose bias is exported unless `bias` is false. */
export interface NormSpec {
  kind: NormKind;
  eps: number;
  /** LayerNorm without a bias (OPT's layer_norm_elementwise_affine = false, StableLM's per-head q/k norms). */
  bias?: boolean;
}

/** Whether a norm reads `<prefix>.bias`. */
export function normHasBias(n: NormSpec): boolean {
  return n.kind === 'layer' && n.bias !== false;
}

/**
 * The linear layers that have a bias: the architecture exports exactly these `.bias` weights and
 * the graph reads exactly these. Absent (or false) = no bias.
 */
export interface BiasSpec {
  /** layers.{i}.attn.{q,k,v}.bias */
  qkv?: boolean;
  /** layers.{i}.attn.o.bias */
  o?: boolean;
  /** layers.{i}.mlp.{gate,up,down}.bias */
  mlp?: boolean;
  /** lm_head.bias (Phi) */
  lmHead?: boolean;
}

/** Rotary position embedding, as the decoder graph needs it. */
export interface RopeSpec {
  /** Number of leading dimensions of each head that rotate (partial rotary < headDim). */
  rotaryDim: number;
  /** Inverse frequencies [rotaryDim / 2], scaling already applied (linear, llama3, longrope, …). */
  invFreq: Float32Array;
  /** Multiplier of cos and sin (longrope / yarn attention factor); 1 otherwise. */
  attentionFactor?: number;
  /**
   * Dynamic NTK scaling (HF `rope_type: dynamic`): the base grows with the longest position of the
   * call, so it must be computed in the graph.
   */
  dynamic?: { base: number; factor: number; maxPositions: number };
  /** Pairs are adjacent (GPT-J style) instead of rotate_half halves (NeoX/Llama style). */
  interleaved?: boolean;
  /**
   * LongRoPE (Phi-3 `rope_scaling: longrope|su`): `invFreq` holds the short factors; when the longest
   * position of the call + 1 exceeds `originalMaxPositions` these inverse frequencies are used instead.
   */
  long?: { invFreq: Float32Array; originalMaxPositions: number };
}

/**
 * ALiBi (positions = 'alibi'): head h adds slopes[h] · keypos to its scores, with
 * keypos = cumsum(attention_mask) − 1 at real tokens and 0 at padding, as Hugging Face builds it.
 */
export interface AlibiSpec {
  slopes: number[];
  /**
   * Where the bias meets the 1/√d scale: 'add-after-scale' = q·kᵀ·scale + bias (Bloom's baddbmm);
   * 'add-before-scale' = (q·kᵀ + bias)·scale (Falcon).
   */
  order: 'add-after-scale' | 'add-before-scale';
  /** Falcon builds the bias in bfloat16: bf16(bf16(slope) · bf16(keypos)). */
  bfloat16?: boolean;
  /**
   * Hugging Face's eager Falcon attention (v4.47 and later) also folds bias·scale into its additive
   * causal mask, so the bias counts twice: scores = (q·kᵀ + bias)·scale + bias·scale. The
   * hf-parity fixtures (eager) need it; HF's SDPA path and the original Falcon-RW code add it once.
   */
  repeatedInMask?: boolean;
}

/**
 * Everything the decoder graph needs to know about an architecture, in one normalised shape. Each
 * architecture file turns its config.json into this and exports its weights under the canonical
 * names listed in `src/graph/decoder.ts`: exactly the weights this spec declares (the optional ones
 * through `bias`, `norm.bias`, `qkNorm`, `embedProjection`, `embedNorm`, `sandwichNorms`,
 * `noFinalNorm`, `tiedEmbeddings`), which the graph checks when it is built.
 */
export interface DecoderSpec {
  modelType: string;
  nLayers: number;
  dModel: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  /** Rows of the unembedding (padded rows included): the lens' V. */
  vocabSize: number;
  /** Longest sequence the model accepts (learned positions) or was trained for. */
  maxPositions: number;
  norm: NormSpec;
  /** Optional q/k norm over each head's vector (Qwen3, Gemma3: RMS; StableLM: LayerNorm per head). */
  qkNorm?: NormSpec;
  /** Linear biases; none when absent. */
  bias?: BiasSpec;
  /**
   * q, k and v come out of one fused weight, `layers.{i}.attn.qkv.{weight,bias}` (one product, the
   * checkpoint's tensor read as it is stored), in the order: 'blocks' = [q | k | v] (GPT-2's
   * c_attn); 'groups' = for each key/value head, its H/KV query heads, then its key, then its value
   * (head_dim each: GPT-NeoX, BLOOM and Falcon-RW with one query head per group, Falcon's new
   * decoder architecture). Absent: separate `attn.{q,k,v}` weights.
   */
  fusedQkv?: 'blocks' | 'groups';
  /**
   * OPT with word_embed_proj_dim ≠ hidden_size: embed_proj.weight after the token embeddings and
   * unembed_proj.weight before the unembedding.
   */
  embedProjection?: boolean;
  positions: 'rope' | 'learned' | 'alibi' | 'none';
  /** Per layer; null = no rotary on that layer. Required when positions = 'rope'. */
  rope?: RopeSpec | (RopeSpec | null)[];
  /** Required when positions = 'alibi'. */
  alibi?: AlibiSpec;
  /** Learned positions: the index added to each position id (OPT: 2). */
  learnedPositionOffset?: number;
  /** Multiplier of q·k; per layer when it varies (GPT-2's scale_attn_by_inverse_layer_idx). */
  attnScale: number | number[];
  attnSoftcap?: number;
  /** Per layer: key positions j are visible to query i when i - window < j ≤ i; null = global. */
  slidingWindow: (number | null)[];
  mlp: { gated: boolean; act: Activation };
  /** parallel: attention and MLP both read the block input (GPT-J/NeoX/Phi/Falcon style). */
  residual: 'sequential' | 'parallel';
  /** Parallel blocks that feed one norm's output to both attention and MLP (Phi, Falcon). */
  sharedBlockNorm?: boolean;
  /** Gemma-2/3: norms after attention and after the MLP, before each residual add. */
  sandwichNorms?: boolean;
  /**
   * 'post' (OPT with do_layer_norm_before = false): attn_norm and mlp_norm apply after each residual
   * add instead of before each sublayer; sequential residual only. Default 'pre'.
   */
  normPlacement?: 'pre' | 'post';
  /** The model has no final norm (OPT-350m): the lens unembeds the residual stream as it is. */
  noFinalNorm?: boolean;
  /** Gemma: the embeddings are multiplied by this (√d_model, rounded to the compute dtype). */
  embedScale?: number;
  /** Bloom: LayerNorm on the embeddings. */
  embedNorm?: boolean;
  finalSoftcap?: number;
  /** Granite: the output of attention and of the MLP is multiplied by this before its residual add. */
  residualScale?: number;
  /** Granite: the logits are divided by this (logits_scaling); the lens divides every layer's logits too. */
  logitDivisor?: number;
  /** The unembedding is the embedding matrix (no `lm_head.weight` exported). */
  tiedEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenIds: number[];
}

/**
 * A weight the architecture exports: canonical name, shape (a linear weight's is [in, out]), and a
 * loader (float32). `stored` says that the weight is, byte for byte, (a block of rows of) one
 * checkpoint tensor, so the graph can read it from the checkpoint's own file instead of a cached copy.
 */
export interface WeightSource {
  name: string;
  dims: number[];
  load: () => Float32Array;
  stored?: StoredTensor;
}

/** Where a weight's values lie in a checkpoint file, and in which layout. */
export interface StoredTensor {
  info: TensorInfo;
  /**
   * The tensor holds the weight transposed: a PyTorch Linear's [out, in] for a canonical [in, out]
   * (the graph multiplies by it with transB).
   */
  transposed: boolean;
  /** Only rows [from, from + count) of the tensor's first axis (one part of a fused tensor). */
  rows?: [number, number];
}

/** A well-known checkpoint of a family (for `entropylens models`): facts from its config.json and model card. */
export interface KnownCheckpoint {
  hubId: string;
  layers: number;
  dModel: number;
  heads: number;
  /** Key/value heads when fewer than `heads` (grouped- or multi-query attention). */
  kvHeads?: number;
  /** config.json vocab_size (the unembedding's rows). */
  vocab: number;
  /** Total parameters as the model card states them, rounded (e.g. '124M', '2.6B'). */
  params: string;
  /** What sets it apart within the family, if anything. */
  note?: string;
}

export interface Architecture {
  /** config.json `model_type` values this file handles. */
  modelTypes: string[];
  /** Hugging Face class names covered (for `entropylens models`). */
  hfClasses: string[];
  /** Special features handled, one short phrase each (for `entropylens models`). */
  features: string[];
  /** Well-known checkpoints of this family (for `entropylens models`). */
  checkpoints?: KnownCheckpoint[];
  /** Tensor-name prefixes tried in order (`model.`, `transformer.`, none, …). */
  prefixes: string[];
  /** Parse config.json into the normalised spec; throws UserError naming the key when invalid. */
  spec(config: Record<string, unknown>): DecoderSpec;
  /** The weights under canonical names (linears as [in, out]); loaders run one at a time. */
  weights(spec: DecoderSpec, tensors: TensorResolver, ckpt: Checkpoint): WeightSource[];
}
