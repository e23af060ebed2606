/**
 * What a lens graph is built for: metrics, top-k, anchors, interventions, layer groups. Types only,
 * kept apart from the graph builder (and its onnx-proto types) because the public API mentions them.
 */
import type { Metric } from './metric-names.js';

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
