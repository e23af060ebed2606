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
 *   sample_index                               INT32, nullable: the sample's place in the run's
 *                                              sample list (readers sort by it)
 *   generated_ids                              LIST<INT32>, n_steps: the token generated at each step
 *   topk_ids, topk_probs                       LIST<INT32>, LIST<FLOAT>, row-major n_steps × n_layers × K
 *   (the last three only in datasets written with top-k: manifest `topK` = K)
 * `n_steps` counts the rows of `values`: generation steps, or windows after averaging.
 *
 * Folder layout (format version 2): `manifest.json` is written once, when the dataset is created,
 * and names what every writer must agree on; each writer process adds shards named
 * `part-<writer id>-<seq>.parquet` (names cannot collide) and keeps its own progress record in
 * `writers/<writer id>.json`. Readers take the union of the shard files, one row set per sample_id.
 */
export type LabelType = 'string' | 'boolean' | 'int' | 'double';
export type LabelValue = string | number | boolean | null;

export const ID_COLUMNS = ['sample_id', 'model', 'experiment', 'metric'] as const;
export const TEXT_COLUMNS = ['prompt', 'completion'] as const;
export const SHAPE_COLUMNS = ['n_steps', 'n_layers'] as const;
export const VALUES_COLUMN = 'values';
export const INDEX_COLUMN = 'sample_index';
/** The token columns of datasets written with top-k (read only on request: they are the bulk of a file). */
export const TOKEN_COLUMNS = ['generated_ids', 'topk_ids', 'topk_probs'] as const;
export const RESERVED_COLUMNS: readonly string[] = [...ID_COLUMNS, ...TEXT_COLUMNS, ...SHAPE_COLUMNS, VALUES_COLUMN, INDEX_COLUMN, ...TOKEN_COLUMNS];

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
  /** The sample's place in its run's sample list (null in data written without one; readers always set it). */
  sample_index?: number | null;
  /** The generated tokens and the lens' top-k per step and layer (datasets written with top-k, read with `tokens: true`). */
  tokens?: StepTokens;
  /** Where a reader found the row: the part file's name and the row's index in it (for `readShardTokens`). */
  source?: { file: string; row: number };
}

/** The token generated at each step, and the lens' top-k ids and probabilities, row-major [n_steps, n_layers, k]. */
export interface StepTokens {
  generatedIds: Int32Array;
  k: number;
  topkIds: Int32Array;
  topkProbs: Float32Array;
}

/** The token columns of one row as a writer supplies them. */
export interface TokenColumns {
  generated_ids: ArrayLike<number>;
  topk_ids: ArrayLike<number>;
  topk_probs: ArrayLike<number>;
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
  sample_index?: number;
  /** Required when the dataset was opened with `topK` > 0: n_steps generated ids, n_steps × n_layers × K top-k ids and probabilities. */
  tokens?: TokenColumns;
}

export interface ShardInfo {
  file: string;
  rows: number;
  samples: number;
  createdAt: string;
}

export const MANIFEST_FORMAT = 'entropylens-results';
/** 1: one manifest listing every shard (still read); 2: written once, shards found by name. */
export const MANIFEST_VERSION = 2;

/** How a run was split for a cluster: `count` shards, each processed by `--shard i/count`. */
export interface Sharding {
  count: number;
}

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
  /** K of the topk_ids / topk_probs columns; absent when the dataset has no token columns. Fixed when the dataset is created. */
  topK?: number;
  createdAt: string;
  updatedAt: string;
  /** Version 1: every shard file. Version 2: empty on disk; readers fill in the part files they found. */
  shards: ShardInfo[];
  /** Set when the run is split into shards (version 2). */
  sharding?: Sharding | null;
}

/** A writer's progress record, `writers/<writer>.json`, rewritten (atomically) after every shard. */
export interface WriterRecord {
  writer: string;
  /** The shard this writer processes, or null for a whole run. */
  shard: { index: number; count: number } | null;
  host: string;
  pid: number;
  startedAt: string;
  updatedAt: string;
  state: 'running' | 'complete';
  /** entropylens version of this writer. */
  codeVersion: string;
  /** Samples of this writer's part of the run, and how many of them are on disk (by anyone). */
  samplesTotal: number | null;
  samplesDone: number;
  /** Shards this writer wrote. */
  files: string[];
}

/** Metric name for a Rényi order as the store spells it: α = 1 is `shannon`. */
export function renyiMetric(alpha: number): string {
  return alpha === 1 ? 'shannon' : `renyi:${alpha}`;
}
