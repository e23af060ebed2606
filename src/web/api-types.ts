/** The viewer's JSON API (README "The viewer's API"): the shapes the server sends and the page reads. */

export type LabelType = 'string' | 'boolean' | 'int' | 'double';
export type LabelValue = string | number | boolean | null;

/** GET /api/datasets: one entry per dataset. */
export interface DatasetInfo {
  /** The folder relative to the folder given on the command line (unique; the id in every URL). */
  name: string;
  path: string;
  experiment: string;
  model: string;
  samples: number;
  rows: number;
  metrics: string[];
  /** Stored label columns, plus the derived ones the dataset supports (task, model, experiment). */
  labels: Record<string, LabelType>;
  /** The stored steps per sample (generation steps, or windows after averaging) and layers; null when mixed. */
  n_steps: number | null;
  n_layers: number | null;
  /** The run's --windows option, when it had one (formats). */
  windows: number | null;
  /** K of the stored top-k tokens (0 = none). */
  top_k: number;
  created: string | null;
  /** The latest write of any of its writers. */
  updated: string | null;
  /** true when the run finished every sample (every shard), false while (or if) it did not, null when unknown (a lone Parquet file, a folder older than the writers' records). */
  complete: boolean | null;
  /** Where the run stands, as `entropylens status` says it (e.g. `running, 40 of 120 samples`, `3 of 4 shards complete`); null when unknown. */
  progress: string | null;
  /** Where the sample page gets token strings from: the tokenizer folder, or null (ids only). */
  tokenizer: string | null;
}

/** GET /api/datasets/{name}/samples */
export interface SamplesPage {
  total: number;
  offset: number;
  limit: number;
  samples: SampleSummary[];
}

export interface SampleSummary {
  sample_id: string;
  labels: Record<string, LabelValue>;
  prompt: string;
  completion: string;
}

/** GET /api/datasets/{name}/samples/{sample_id} */
export interface SampleDetail extends SampleSummary {
  dataset: string;
  model: string;
  metric: string;
  metrics: string[];
  n_steps: number;
  n_layers: number;
  /** n_steps × n_layers */
  values: number[][];
  /** With a top-k dataset: the generated token per step, and steps × layers × k ids, strings, probabilities. */
  generated?: { ids: number[]; tokens: (string | null)[] };
  topk?: { k: number; ids: number[][][]; tokens: (string | null)[][][]; probs: number[][][] };
}

/** A mean with its 95% band (mean ± 1.96·sd/√n), as the static figures compute it. */
export interface Band {
  n: number;
  mean: (number | null)[];
  lo: (number | null)[];
  hi: (number | null)[];
}

/** GET /api/datasets/{name}/summary: per label value, the mean and 95% band per step × layer. */
export interface Summary {
  metric: string;
  label: string;
  windows: number | null;
  n_steps: number;
  n_layers: number;
  groups: SummaryGroup[];
}

export interface SummaryGroup {
  value: string;
  n: number;
  /** Per layer: each sample's mean over its steps, then mean and band over the samples. */
  profile: Band;
  /** Per step (or window) × layer, flattened row-major. */
  matrix: Band;
}

/** GET /api/datasets/{name}/map */
export interface MapResult {
  method: 'pca' | 'tsne';
  metric: string;
  label: string;
  windows: number | null;
  total: number;
  /** Points drawn (an evenly spaced subset above the method's cap). */
  shown: number;
  axis: [string, string];
  points: { sample_id: string; x: number; y: number; label: string; prompt: string; completion: string }[];
  note?: string;
}

/** GET /api/datasets/{name}/evaluate: what `entropylens evaluate --json` prints. */
export interface EvaluateResult {
  metric: string;
  label: string;
  windows: number;
  overall: Record<string, unknown> & { modelRocAuc: number; baselineRocAuc: number; pValue: number; nSamples: number };
  notes: string[];
  /** The table `entropylens evaluate` prints. */
  text: string;
}

/** GET /api/compare */
export interface CompareResult {
  metric: string;
  datasets: { name: string; model: string; experiment: string; n_layers: number; samples: number; depth: Band }[];
  /** sample_ids present in every dataset (first 500; for two datasets, those that differ most first), and how many there are. */
  shared: string[];
  /** Two datasets: each shared sample's mean |difference| over steps × layers, in the order of `shared`. */
  mean_abs_difference?: number[];
  shared_total: number;
}

/** GET /api/compare/sample */
export interface CompareSample {
  metric: string;
  sample_id: string;
  prompt: string;
  datasets: { name: string; completion: string; n_steps: number; n_layers: number }[];
  /** Second minus first, steps × points; on the layers when both have the same depth, else on a normalised-depth grid. */
  diff: number[][];
  x: 'layer' | 'depth';
  /** The x value of each column. */
  xs: number[];
}

/** GET /api/live: whether live profiling is on, and with which model. */
export interface LiveInfo {
  enabled: boolean;
  model: string | null;
  n_layers: number | null;
  max_new_tokens: number;
  max_prompt_chars: number;
  /** Runs going (0 or 1) and waiting now. */
  running: number;
  queued: number;
  /** Requests given up while they waited, because their client went away. */
  dropped: number;
}

/** POST /api/profile streamed as server-sent events: one `step` per generated token. */
export interface LiveStep {
  step: number;
  token_id: number;
  token: string | null;
  metrics: Record<string, number[]>;
  argmax: number[];
  argmax_tokens: (string | null)[];
  topk?: { ids: number[][]; probs: number[][]; tokens: (string | null)[][] };
}

/** The `profile --json` document (one prompt). */
export interface ProfileDocument {
  model: { path: string; model_type: string; n_layers: number; d_model: number; vocab_size: number };
  results: {
    prompt: string | null;
    input_ids: number[];
    generated_ids: number[];
    generated_tokens: (string | null)[];
    completion: string | null;
    metrics: Record<string, number[][]>;
    argmax: number[][];
    argmax_tokens: (string | null)[][];
    topk?: { ids: number[][][]; tokens: (string | null)[][][]; probs: number[][][] };
  }[];
  timing: Record<string, number>;
}

/** Every error the API sends. */
export interface ApiError {
  error: string;
}
