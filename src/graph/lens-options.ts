/**
 * What a lens graph is built for: metrics, top-k, anchors, interventions, layer groups. Types only,
 * kept apart from the graph builder (and its onnx-proto types) because the public API mentions them.
 */
import type { Metric } from './metric-names.js';

export interface Intervention {
  /** scale: h ← factor·h; skip: the block is the identity; add: h ← h + factor·vector (steering). */
  kind: 'scale' | 'skip' | 'add';
  /** The block after which the residual stream is changed (0-based). */
  layer: number;
  /** Multiplier for 'scale'; the vector's scale for 'add' (default 1). */
  factor?: number;
  /** 'add': the vector, d_model values (added as float32 of factor·vector at every position). */
  vector?: number[];
  /** 'add': where the vector came from (a file name), for the record. */
  source?: string;
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
  /**
   * The lens at every position of a run, not only the last: the lens outputs get one row per
   * (batch row, position), [batch·seq, layers(, k)], and `logits` stays the last position's.
   */
  positions?: boolean;
  /** The residual stream before block 0 (the input of block 0) is lensed too, as a first layer. */
  embeddings?: boolean;
  /**
   * Token ids asked about per lens row: input `lens_query_ids` [batch, lens positions, Q] (lens
   * positions = seq with `positions`, else 1); outputs `lens.query_logprob` and `lens.query_rank`
   * [rows, layers, Q] — the lens' log-probability of each id and its rank (0 = the top token).
   */
  queries?: number;
}
