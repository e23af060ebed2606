/**
 * The resumable extraction loop shared by every experiment: profile samples in chunks of
 * `updateSteps`, write each chunk as one shard, skip samples already on disk.
 */
import { appendGeneratedText } from '../datasets/quirks.js';
import type { LensModel, ProfileOptions, ProfileResult, PromptInput } from '../lens/model.js';
import type { ResultRowInput } from '../store/schema.js';
import { ProgressBar } from '../util/progress.js';

export type LabelValue = string | number | boolean | null;
export type Labels = Record<string, LabelValue>;

export interface ExperimentSample {
  sampleId: string;
  /** The prompt text (also what is stored). */
  prompt: string;
  /** Token ids used verbatim instead of tokenizing `prompt` (e.g. [BOS, BOS]). */
  ids?: number[];
  /** Sampler stream: stable per sample, so a resumed or sharded run samples the same tokens. */
  stream: number;
  /** The sample's place in the experiment's full sample list (stored, so readers keep the run's order). */
  index: number;
  labels: Labels;
  /** A token (text; its first token) whose lens probability and rank are stored as TARGET_METRICS (MMLU: the gold letter). */
  target?: string;
}

/** Rows stored for a sample's target: the lens probability and rank (0 = top) of its first token, steps × layers. */
export const TARGET_METRICS = ['target_prob', 'target_rank'] as const;

/**
 * Where a run's rows go: the results store's writer (a part file per `append`), seen through what
 * the loop needs. `has` answers from the last `refresh`, which picks up other writers' samples.
 */
export interface ResultsSink {
  /** Append one part file of rows; must be atomic (a killed run loses at most this part). */
  append(rows: ResultRowInput[]): Promise<void>;
  /** Whether a sample is on disk already (written by this or another writer). */
  has(sampleId: string): boolean;
  /** Look for samples that other writers of the same folder have written meanwhile. */
  refresh(): Promise<void>;
}

export interface RunLoopOptions {
  experiment: string;
  /** The model name stored in each row. */
  modelName: string;
  profile: Pick<ProfileOptions, 'maxNewTokens' | 'temperature' | 'seed' | 'batchSize' | 'metrics' | 'anchorIds' | 'interventions' | 'targets' | 'topK'>;
  metricNames: string[];
  /** Write a shard every N samples. */
  updateSteps: number;
  /** Reproduce the reference's re-tokenising generation loop. */
  retokenize?: boolean;
  /** Extra labels computed from the completion (e.g. MMLU correctness). */
  finish?: (sample: ExperimentSample, completion: string, generatedIds: number[]) => Labels;
  progressLabel?: string;
  /**
   * Where in the list of pending samples to begin (a fraction in [0, 1), rounded down to a chunk;
   * the loop wraps around). Concurrent writers of one folder start at different places, so they
   * share the work instead of computing the same chunks side by side.
   */
  startAt?: number;
}

/** What one sample produced, independent of how it was generated. */
interface SampleOutput {
  completion: string;
  generatedIds: number[];
  metrics: Record<string, number[][]>;
  /** steps × layers × k, with top-k. */
  topk?: { ids: number[][][]; probs: number[][][] };
}

/** What a run loop did: samples written now, already on disk when they came up, rows with NaN/Inf. */
export interface RunLoopResult {
  written: number;
  skipped: number;
  nonFinite: number;
}

/**
 * Profiles `samples` in chunks of `updateSteps`, one part file per chunk. Before each chunk the sink
 * is refreshed, so samples that another writer of the same folder finished meanwhile are skipped:
 * concurrent runs share the work instead of repeating it all.
 */
export async function runLoop(model: LensModel, samples: ExperimentSample[], sink: ResultsSink, o: RunLoopOptions): Promise<RunLoopResult> {
  const todo = samples.filter((s) => !sink.has(s.sampleId));
  const start = Math.floor(((o.startAt ?? 0) * todo.length) / o.updateSteps) * o.updateSteps;
  const pending = [...todo.slice(start), ...todo.slice(0, start)];
  const bar = new ProgressBar({ total: pending.length, label: o.progressLabel ?? o.experiment, unit: 'samples' });
  let written = 0;
  let nonFinite = 0;
  let next = 0;
  while (next < pending.length) {
    await sink.refresh();
    const chunk: ExperimentSample[] = [];
    let passed = 0;
    while (chunk.length < o.updateSteps && next < pending.length) {
      const s = pending[next++];
      if (sink.has(s.sampleId)) passed++;
      else chunk.push(s);
    }
    if (passed) bar.tick(passed);
    if (chunk.length === 0) continue;
    const outputs = o.retokenize ? await retokenizingGenerate(model, chunk, o) : await generate(model, chunk, o);
    const rows: ResultRowInput[] = [];
    chunk.forEach((s, i) => {
      const out = outputs[i];
      const labels = { ...s.labels, ...(o.finish ? o.finish(s, out.completion, out.generatedIds) : {}) };
      // One copy per sample: every metric's row of the sample refers to it.
      const tokens = out.topk
        ? { generated_ids: Int32Array.from(out.generatedIds), topk_ids: Int32Array.from(out.topk.ids.flat(2)), topk_probs: Float32Array.from(out.topk.probs.flat(2)) }
        : undefined;
      for (const metric of o.metricNames) {
        const m = out.metrics[metric];
        const values = Float32Array.from(m.flat());
        if (!values.every(Number.isFinite)) nonFinite++;
        rows.push({
          sample_id: s.sampleId,
          model: o.modelName,
          experiment: o.experiment,
          metric,
          labels,
          prompt: s.prompt,
          completion: out.completion,
          n_steps: m.length,
          n_layers: m[0]?.length ?? 0,
          values,
          sample_index: s.index,
          ...(tokens ? { tokens } : {}),
        });
      }
    });
    await sink.append(rows);
    written += chunk.length;
    bar.tick(chunk.length);
  }
  bar.finish();
  return { written, skipped: samples.length - written, nonFinite };
}

function toPrompt(s: ExperimentSample): PromptInput {
  const target = s.target !== undefined ? { target: s.target } : {};
  return s.ids ? { ids: s.ids, stream: s.stream, ...target } : { text: s.prompt, stream: s.stream, ...target };
}

/** A result's metrics, plus the TARGET_METRICS when it has a target. */
function metricsOf(r: ProfileResult): Record<string, number[][]> {
  if (!r.target) return r.metrics;
  return { ...r.metrics, target_prob: r.target.logprob.map((row) => row.map(Math.exp)), target_rank: r.target.rank };
}

async function generate(model: LensModel, chunk: ExperimentSample[], o: RunLoopOptions): Promise<SampleOutput[]> {
  const out: SampleOutput[] = new Array(chunk.length);
  for await (const r of model.profile(chunk.map(toPrompt), o.profile)) out[r.index] = fromResult(r);
  return out;
}

function fromResult(r: ProfileResult): SampleOutput {
  return { completion: r.completion ?? r.generatedIds.join(' '), generatedIds: r.generatedIds, metrics: metricsOf(r), ...(r.topk ? { topk: r.topk } : {}) };
}

/**
 * The reference's loop: at every step, re-tokenize prompt + decoded completion (BOS prepended) and
 * run the whole sequence; append the decoded token to the text. No KV cache across steps.
 */
async function retokenizingGenerate(model: LensModel, chunk: ExperimentSample[], o: RunLoopOptions): Promise<SampleOutput[]> {
  const steps = o.profile.maxNewTokens ?? 8;
  const texts = chunk.map((s) => s.prompt);
  const withTopk = (o.profile.topK ?? 0) > 0;
  const outs: SampleOutput[] = chunk.map(() => ({
    completion: '',
    generatedIds: [],
    metrics: Object.fromEntries(o.metricNames.map((n) => [n, [] as number[][]])),
    ...(withTopk ? { topk: { ids: [], probs: [] } } : {}),
  }));
  for (let t = 0; t < steps; t++) {
    const prompts = chunk.map((s, i) => ({ text: texts[i], stream: s.stream * steps + t, ...(s.target !== undefined ? { target: s.target } : {}) }));
    for await (const r of model.profile(prompts, { ...o.profile, maxNewTokens: 1 })) {
      const i = r.index;
      const id = r.generatedIds[0];
      const piece = model.tokenText(id) ?? '';
      texts[i] = appendGeneratedText(texts[i], piece, o.modelName);
      outs[i].generatedIds.push(id);
      const metrics = metricsOf(r);
      for (const n of o.metricNames) outs[i].metrics[n].push(metrics[n][0]);
      const topk = outs[i].topk;
      if (topk && r.topk) {
        topk.ids.push(r.topk.ids[0]);
        topk.probs.push(r.topk.probs[0]);
      }
    }
  }
  chunk.forEach((s, i) => (outs[i].completion = texts[i].slice(s.prompt.length)));
  return outs;
}
