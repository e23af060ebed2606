/**
 * The results dataset: a folder of Parquet shards plus `manifest.json`, one row per sample and
 * metric (DESIGN.md "Results on disk").
 *
 * Columns, in this order:
 *   sample_id, model, experiment, metric      UTF8 strings, required
 *   <label columns, as declared>               UTF8 / BOOLEAN / INT32 / DOUBLE, nullable
 *   prompt, completion                         UTF8, required
 *   n_steps, n_layers                          INT32, required
 *   values                                     LIST<FLOAT>, row-major n_steps × n_layers
 * `n_steps` counts the rows of `values`: generation steps, or windows after averaging.
 */
export type LabelType = 'string' | 'boolean' | 'int' | 'double';
export type LabelValue = string | number | boolean | null;

export const ID_COLUMNS = ['sample_id', 'model', 'experiment', 'metric'] as const;
export const TEXT_COLUMNS = ['prompt', 'completion'] as const;
export const SHAPE_COLUMNS = ['n_steps', 'n_layers'] as const;
export const VALUES_COLUMN = 'values';
export const RESERVED_COLUMNS: readonly string[] = [...ID_COLUMNS, ...TEXT_COLUMNS, ...SHAPE_COLUMNS, VALUES_COLUMN];

/** One stored row. */
export interface ResultRow {
  sample_id: string;
  model: string;
  experiment: string;
  /** e.g. `shannon`, `renyi:0.5`, `moment:2`. */
  metric: string;
  labels: Record<string, LabelValue>;
  prompt: string;
  completion: string;
  n_steps: number;
  n_layers: number;
  /** Row-major [n_steps, n_layers]. */
  values: Float32Array;
}

/** A row as a writer supplies it: model and experiment default to the manifest's. */
export interface ResultRowInput {
  sample_id: string;
  metric: string;
  model?: string;
  experiment?: string;
  labels?: Record<string, LabelValue | undefined>;
  prompt?: string;
  completion?: string;
  n_steps: number;
  n_layers: number;
  values: ArrayLike<number>;
}

export interface ShardInfo {
  file: string;
  rows: number;
  samples: number;
  createdAt: string;
}

export const MANIFEST_FORMAT = 'entropylens-results';
export const MANIFEST_VERSION = 1;

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  model: string;
  experiment: string;
  /** The run's options (generation settings, metrics, windows, …) as the experiment recorded them. */
  options: Record<string, unknown>;
  /** Version (and commit, if known) of the code that wrote the data. */
  codeVersion: string;
  labelColumns: Record<string, LabelType>;
  createdAt: string;
  updatedAt: string;
  shards: ShardInfo[];
}

/** Metric name for a Rényi order as the store spells it: α = 1 is `shannon`. */
export function renyiMetric(alpha: number): string {
  return alpha === 1 ? 'shannon' : `renyi:${alpha}`;
}
