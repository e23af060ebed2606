/**
 * The resumable extraction loop shared by every experiment: profile samples in chunks of
 * `updateSteps`, write each chunk as one shard, skip samples already on disk.
 */
import { appendGeneratedText } from '../datasets/quirks.js';
import type { LensModel, ProfileOptions, ProfileResult } from '../lens/model.js';
import { ProgressBar } from '../util/progress.js';

export type LabelValue = string | number | boolean | null;
export type Labels = Record<string, LabelValue>;

export interface ExperimentSample {
  sampleId: string;
  /** The prompt text (also what is stored). */
  prompt: string;
  /** Token ids used verbatim instead of tokenizing `prompt` (e.g. [BOS, BOS]). */
  ids?: number[];
  /** Sampler stream: stable per sample, so a resumed run samples the same tokens. */
  stream: number;
  labels: Labels;
}

/** One row of a results dataset: one sample and one metric. */
export interface ResultRecord {
  sampleId: string;
  model: string;
  experiment: string;
  metric: string;
  labels: Labels;
  prompt: string;
  completion: string;
  nSteps: number;
  nLayers: number;
  /** steps × layers, row-major. */
  values: Float32Array;
}

export interface ResultsSink {
  /** Append one shard of rows; must be atomic (a killed run loses at most this shard). */
  append(rows: ResultRecord[]): Promise<void>;
}

export interface RunLoopOptions {
  experiment: string;
  /** The model name stored in each row. */
  modelName: string;
  profile: Pick<ProfileOptions, 'maxNewTokens' | 'temperature' | 'seed' | 'batchSize' | 'metrics' | 'anchorIds' | 'interventions'>;
  metricNames: string[];
  /** Write a shard every N samples. */
  updateSteps: number;
  /** Reproduce the reference's re-tokenising generation loop. */
  retokenize?: boolean;
  /** Extra labels computed from the completion (e.g. MMLU correctness). */
  finish?: (sample: ExperimentSample, completion: string, generatedIds: number[]) => Labels;
  progressLabel?: string;
}

/** What one sample produced, independent of how it was generated. */
interface SampleOutput {
  completion: string;
  generatedIds: number[];
  metrics: Record<string, number[][]>;
}

export async function runLoop(
  model: LensModel,
  samples: ExperimentSample[],
  done: Set<string>,
  sink: ResultsSink,
  o: RunLoopOptions,
): Promise<{ written: number; skipped: number }> {
  const todo = samples.filter((s) => !done.has(s.sampleId));
  const bar = new ProgressBar({ total: todo.length, label: o.progressLabel ?? o.experiment, unit: 'samples' });
  let written = 0;
  for (let start = 0; start < todo.length; start += o.updateSteps) {
    const chunk = todo.slice(start, start + o.updateSteps);
    const outputs = o.retokenize ? await retokenizingGenerate(model, chunk, o) : await generate(model, chunk, o);
    const rows: ResultRecord[] = [];
    chunk.forEach((s, i) => {
      const out = outputs[i];
      const labels = { ...s.labels, ...(o.finish ? o.finish(s, out.completion, out.generatedIds) : {}) };
      for (const metric of o.metricNames) {
        const m = out.metrics[metric];
        rows.push({
          sampleId: s.sampleId,
          model: o.modelName,
          experiment: o.experiment,
          metric,
          labels,
          prompt: s.prompt,
          completion: out.completion,
          nSteps: m.length,
          nLayers: m[0]?.length ?? 0,
          values: Float32Array.from(m.flat()),
        });
      }
    });
    await sink.append(rows);
    written += chunk.length;
    bar.tick(chunk.length);
  }
  bar.finish();
  return { written, skipped: samples.length - todo.length };
}

function toPrompt(s: ExperimentSample): { text: string; stream: number } | { ids: number[]; stream: number } {
  return s.ids ? { ids: s.ids, stream: s.stream } : { text: s.prompt, stream: s.stream };
}

async function generate(model: LensModel, chunk: ExperimentSample[], o: RunLoopOptions): Promise<SampleOutput[]> {
  const out: SampleOutput[] = new Array(chunk.length);
  for await (const r of model.profile(chunk.map(toPrompt), o.profile)) out[r.index] = fromResult(r);
  return out;
}

function fromResult(r: ProfileResult): SampleOutput {
  return { completion: r.completion ?? r.generatedIds.join(' '), generatedIds: r.generatedIds, metrics: r.metrics };
}

/**
 * The reference's loop: at every step, re-tokenize prompt + decoded completion (BOS prepended) and
 * run the whole sequence; append the decoded token to the text. No KV cache across steps.
 */
async function retokenizingGenerate(model: LensModel, chunk: ExperimentSample[], o: RunLoopOptions): Promise<SampleOutput[]> {
  const steps = o.profile.maxNewTokens ?? 8;
  const texts = chunk.map((s) => s.prompt);
  const outs: SampleOutput[] = chunk.map(() => ({ completion: '', generatedIds: [], metrics: Object.fromEntries(o.metricNames.map((n) => [n, [] as number[][]])) }));
  for (let t = 0; t < steps; t++) {
    const prompts = chunk.map((s, i) => ({ text: texts[i], stream: s.stream * steps + t }));
    for await (const r of model.profile(prompts, { ...o.profile, maxNewTokens: 1 })) {
      const i = r.index;
      const id = r.generatedIds[0];
      const piece = model.tokenText(id) ?? '';
      texts[i] = appendGeneratedText(texts[i], piece, o.modelName);
      outs[i].generatedIds.push(id);
      for (const n of o.metricNames) outs[i].metrics[n].push(r.metrics[n][0]);
    }
  }
  chunk.forEach((s, i) => (outs[i].completion = texts[i].slice(s.prompt.length)));
  return outs;
}
