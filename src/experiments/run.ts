/**
 * The four protocol experiments end to end: samples → resumable extraction into a results dataset
 * → evaluation printed → figures written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { classifyFormats, evaluateProfiles, formatClassification, formatEvaluation, type ClassificationResult, type EvaluationResult } from '../analysis/protocol.js';
import { TSNE } from '../analysis/manifold.js';
import { formatPrompts } from '../datasets/formats.js';
import { loadMmlu, type MmluPromptType } from '../datasets/mmlu.js';
import { loadTinyStories } from '../datasets/tinystories.js';
import { resolveModelDir } from '../hub/index.js';
import { LensModel } from '../lens/model.js';
import { readManifest, readResults, rowFeatures, ResultsWriter, MANIFEST_FILE, type ResultRow } from '../store/index.js';
import type { LabelType } from '../store/schema.js';
import { UserError } from '../util/errors.js';
import { runLoop, type ExperimentSample, type ResultRecord, type ResultsSink, type RunLoopOptions } from './runner.js';
import { familySamples, formatSamples, mmluFinish, mmluSamples, tinystoriesSamples } from './samples.js';
import { writeRunFigures } from './figures.js';

export const CODE_VERSION = 'entropylens 0.1.0';

export interface CommonRunOptions {
  out: string;
  limit?: number;
  batchSize: number;
  seed: number;
  updateSteps: number;
  referenceQuirks: boolean;
  threads?: number;
  cacheDir?: string;
  /** Skip the figures (tests that only need data). */
  noFigures?: boolean;
  /** Where tables and summaries go. */
  log: (line: string) => void;
}

export interface RunSummary {
  out: string;
  written: number;
  skipped: number;
  seconds: number;
  evaluation?: EvaluationResult;
  classification?: { alpha: number; result: ClassificationResult }[];
  figures: string[];
}

async function openSink(out: string, model: string, experiment: string, options: Record<string, unknown>, labelColumns: Record<string, LabelType>): Promise<{ sink: ResultsSink; done: Set<string> }> {
  if (fs.existsSync(path.join(out, MANIFEST_FILE))) {
    const m = await readManifest(out);
    if (m.experiment !== experiment) {
      throw new UserError(`--out ${out} holds a '${m.experiment}' run, not '${experiment}'; choose another --out`);
    }
    const before = JSON.stringify(m.options);
    const now = JSON.stringify(options);
    if (before !== now) {
      const diffs = Object.keys({ ...m.options, ...options })
        .filter((k) => JSON.stringify(m.options[k]) !== JSON.stringify(options[k]))
        .map((k) => `${k}: ${JSON.stringify(m.options[k])} on disk vs ${JSON.stringify(options[k])} now`);
      throw new UserError(`--out ${out} holds a run with other options (${diffs.join('; ')}); rerun with the same options to resume, or choose another --out`);
    }
  } else if (fs.existsSync(out) && fs.readdirSync(out).some((f) => !f.startsWith('.'))) {
    throw new UserError(`--out ${out} exists and is not an entropylens results folder; choose an empty or new folder`);
  }
  const writer = await ResultsWriter.open(out, { model, experiment, options, codeVersion: CODE_VERSION, labelColumns });
  const sink: ResultsSink = {
    append: async (rows: ResultRecord[]) => {
      await writer.appendShard(
        rows.map((r) => ({
          sample_id: r.sampleId,
          model: r.model,
          experiment: r.experiment,
          metric: r.metric,
          labels: r.labels,
          prompt: r.prompt,
          completion: r.completion,
          n_steps: r.nSteps,
          n_layers: r.nLayers,
          values: r.values,
        })),
      );
    },
  };
  return { sink, done: writer.existingSampleIds() };
}

/** Load a model with the graph for the run's metrics and batch size built at once (one session, not two). */
async function loadModel(id: string, o: CommonRunOptions, metrics: string[]): Promise<{ model: LensModel; name: string }> {
  const dir = await resolveModelDir(id);
  const model = await LensModel.load(dir, { cacheDir: o.cacheDir, threads: o.threads, progress: true, profile: { batchSize: o.batchSize, metrics } });
  return { model, name: id };
}

function labelOf(r: ResultRow, label: string): string | number | boolean {
  const v = r.labels[label];
  if (v === null || v === undefined) throw new UserError(`row ${r.sample_id} has no '${label}' label`);
  return v;
}

// ------------------------------------------------------------------ TinyStories (§3)

export interface TinyStoriesRunOptions extends CommonRunOptions {
  model: string;
  dataset?: string;
  nStories: number;
  maxNewTokens: number;
  temperature: number;
  /** Stories given directly (the demo generates its own). */
  stories?: { text: string }[];
}

export async function runTinyStories(o: TinyStoriesRunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const stories = o.stories ?? (await loadTinyStories(o.dataset, { limit: o.nStories }));
  const samples = limitSamples(tinystoriesSamples(stories.slice(0, o.nStories), { seed: o.seed, referenceQuirks: o.referenceQuirks }), o.limit);
  const options = { dataset: o.dataset ?? 'roneneldan/TinyStories', nStories: o.nStories, limit: o.limit ?? null, maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: o.seed, referenceQuirks: o.referenceQuirks, metrics: ['shannon'] };
  const { sink, done } = await openSink(o.out, o.model, 'tinystories', options, { prompt_type: 'string', task: 'string', variant: 'string', story_index: 'int' });
  const { model, name } = await loadModel(o.model, o, ['shannon']);
  try {
    const res = await runLoop(model, samples, done, sink, loopOptions('tinystories', name, o, { maxNewTokens: o.maxNewTokens, temperature: o.temperature }, ['shannon']));
    return await finishEvaluation(o, 'tinystories', 'task', res, t0);
  } finally {
    await model.close();
  }
}

// ------------------------------------------------------------------ MMLU (§4)

export interface MmluRunOptions extends CommonRunOptions {
  model: string;
  dataset?: string;
  promptType: MmluPromptType;
  maxNewTokens: number;
}

export async function runMmlu(o: MmluRunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const rows = await loadMmlu(o.dataset, { limit: o.limit });
  const samples = limitSamples(mmluSamples(rows, o.promptType), o.limit);
  const options = { dataset: o.dataset ?? 'cais/mmlu', limit: o.limit ?? null, promptType: o.promptType, maxNewTokens: o.maxNewTokens, seed: o.seed, referenceQuirks: o.referenceQuirks, metrics: ['shannon'] };
  const { sink, done } = await openSink(o.out, o.model, 'mmlu', options, { subject: 'string', prompt_type: 'string', answer: 'string', question_index: 'int', extracted: 'string', correct: 'boolean' });
  const { model, name } = await loadModel(o.model, o, ['shannon']);
  try {
    const loop = loopOptions('mmlu', name, o, { maxNewTokens: o.maxNewTokens, temperature: 0 }, ['shannon']);
    loop.finish = mmluFinish(o.referenceQuirks);
    const res = await runLoop(model, samples, done, sink, loop);
    return await finishEvaluation(o, 'mmlu', 'correct', res, t0);
  } finally {
    await model.close();
  }
}

// ------------------------------------------------------------------ formats (§5)

export interface FormatsRunOptions extends CommonRunOptions {
  model: string;
  topicsFile: string;
  maxNewTokens: number;
  alphas: number[];
  windows: number;
  ks: number[];
}

export async function runFormats(o: FormatsRunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  if (o.maxNewTokens % o.windows !== 0) throw new UserError(`--windows ${o.windows} must divide --max-new-tokens ${o.maxNewTokens}`);
  const samples = limitSamples(formatSamples(await formatPrompts(o.topicsFile)), o.limit);
  const metrics = o.alphas.map((a) => (a === 1 ? 'shannon' : `renyi:${a === Infinity ? 'inf' : a}`));
  const options = { topics: path.basename(o.topicsFile), limit: o.limit ?? null, maxNewTokens: o.maxNewTokens, alphas: o.alphas, windows: o.windows, seed: o.seed, referenceQuirks: o.referenceQuirks, metrics };
  const { sink, done } = await openSink(o.out, o.model, 'formats', options, { format: 'string', topic: 'string' });
  const { model, name } = await loadModel(o.model, o, metrics);
  let res: { written: number; skipped: number };
  try {
    res = await runLoop(model, samples, done, sink, loopOptions('formats', name, o, { maxNewTokens: o.maxNewTokens, temperature: 0 }, metrics));
  } finally {
    await model.close();
  }
  const data = await readResults(o.out);
  const classification: { alpha: number; result: ClassificationResult }[] = [];
  o.alphas.forEach((alpha, i) => {
    const rows = data.rows.filter((r) => r.metric === metrics[i]);
    const X = rows.map((r) => Array.from(rowFeatures(r, o.windows)));
    const y = rows.map((r) => String(labelOf(r, 'format')));
    if (new Set(y).size < 2) {
      o.log(`α = ${alpha}: fewer than two formats in the data, nothing to classify`);
      return;
    }
    const result = classifyFormats(X, y, { ks: o.ks, seed: o.seed });
    classification.push({ alpha, result });
    o.log(formatClassification(result, `formats, ${metrics[i]} (α = ${alpha}), ${o.windows} windows × layers`));
  });
  const figures = o.noFigures ? [] : await writeRunFigures(o.out, 'formats', data.rows, { label: 'format' });
  return { out: o.out, ...res, seconds: (performance.now() - t0) / 1000, classification, figures };
}

// ------------------------------------------------------------------ families (§2)

export interface FamiliesRunOptions extends CommonRunOptions {
  models: string[];
  samples: number;
  maxNewTokens: number;
  temperature: number;
  /** Interpolate profiles onto N points of normalised depth instead of zero-padding (the reference). */
  depthGrid?: number;
  perplexity: number;
  tsneIter: number;
  /** Barnes-Hut (scikit-learn's default, the reference) or exact. */
  tsneMethod?: 'barnes_hut' | 'exact';
}

export async function runFamilies(o: FamiliesRunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const options = { models: o.models, samples: o.samples, maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: o.seed, referenceQuirks: o.referenceQuirks, metrics: ['shannon'] };
  const { sink, done } = await openSink(o.out, o.models.join(','), 'families', options, { family: 'string', model_type: 'string', n_params: 'double', n_layers_model: 'int' });
  let written = 0;
  let skipped = 0;
  for (let m = 0; m < o.models.length; m++) {
    const { model, name } = await loadModel(o.models[m], o, ['shannon']);
    try {
      const samples = familySamples(model, name, o.samples, m * o.samples);
      const res = await runLoop(model, samples, done, sink, loopOptions('families', name, o, { maxNewTokens: o.maxNewTokens, temperature: o.temperature }, ['shannon']));
      written += res.written;
      skipped += res.skipped;
    } finally {
      await model.close();
    }
  }
  const data = await readResults(o.out, { metric: 'shannon' });
  const rows = data.rows;
  const vectors = rows.map((r) => Array.from(rowFeatures(r, 1)));
  const X = o.depthGrid ? vectors.map((v) => interpolateDepth(v, o.depthGrid!)) : zeroPad(vectors);
  let embedding: number[][] = [];
  if (rows.length > 3) {
    const perplexity = Math.min(o.perplexity, Math.max(1, (rows.length - 1) / 3));
    const tsne = new TSNE({ nComponents: 2, perplexity, maxIter: o.tsneIter, init: 'pca', learningRate: 'auto', randomState: 42, method: o.tsneMethod ?? 'barnes_hut' });
    embedding = tsne.fitTransform(X);
    const file = path.join(o.out, 'tsne.json');
    const doc = {
      method: o.depthGrid ? `interpolated onto ${o.depthGrid} points of normalised depth` : 'zero-padded to the deepest model (the reference)',
      perplexity,
      maxIter: o.tsneIter,
      tsneMethod: o.tsneMethod ?? 'barnes_hut',
      klDivergence: tsne.klDivergence,
      points: rows.map((r, i) => ({ sample_id: r.sample_id, model: r.model, family: r.labels.family, n_params: r.labels.n_params, x: embedding[i][0], y: embedding[i][1] })),
    };
    fs.writeFileSync(file + '.tmp', JSON.stringify(doc, null, 1));
    fs.renameSync(file + '.tmp', file);
    o.log(`t-SNE of ${rows.length} profiles (${doc.method}), perplexity ${perplexity}, KL ${tsne.klDivergence.toFixed(3)} → ${file}`);
    if (tsne.klDivergence < 0) {
      o.log('note: a negative KL is an artifact of the Barnes-Hut approximation when profiles coincide (identical samples); --tsne-method exact computes it exactly');
    }
  } else {
    o.log('fewer than 4 profiles: no t-SNE');
  }
  const figures = o.noFigures ? [] : await writeRunFigures(o.out, 'families', rows, { embedding });
  return { out: o.out, written, skipped, seconds: (performance.now() - t0) / 1000, figures };
}

function zeroPad(vectors: number[][]): number[][] {
  const L = Math.max(...vectors.map((v) => v.length));
  return vectors.map((v) => [...v, ...new Array(L - v.length).fill(0)]);
}

/** Linear interpolation of a per-layer profile (at depths (l+1)/L) onto n points of (0, 1]. */
export function interpolateDepth(v: number[], n: number): number[] {
  const L = v.length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const depth = (i + 1) / n; // (0, 1]
    const pos = depth * L - 1; // fractional layer index
    if (pos <= 0) out.push(v[0]);
    else if (pos >= L - 1) out.push(v[L - 1]);
    else {
      const lo = Math.floor(pos);
      const f = pos - lo;
      out.push(v[lo] * (1 - f) + v[lo + 1] * f);
    }
  }
  return out;
}

// ------------------------------------------------------------------ shared

function limitSamples(samples: ExperimentSample[], limit?: number): ExperimentSample[] {
  return limit !== undefined ? samples.slice(0, limit) : samples;
}

function loopOptions(experiment: string, modelName: string, o: CommonRunOptions, gen: { maxNewTokens: number; temperature: number }, metrics: string[]): RunLoopOptions {
  return {
    experiment,
    modelName,
    profile: { ...gen, seed: o.seed, batchSize: o.batchSize, metrics },
    metricNames: metrics,
    updateSteps: o.updateSteps,
    retokenize: o.referenceQuirks,
    progressLabel: experiment,
  };
}

async function finishEvaluation(o: CommonRunOptions, experiment: string, label: string, res: { written: number; skipped: number }, t0: number): Promise<RunSummary> {
  const data = await readResults(o.out, { metric: 'shannon' });
  const rows = data.rows;
  const X = rows.map((r) => Array.from(rowFeatures(r, 1)));
  const y = rows.map((r) => labelOf(r, label));
  let evaluation: EvaluationResult | undefined;
  if (label === 'correct') {
    const right = y.filter((v) => v === true).length;
    o.log(`correct answers: ${right} of ${y.length} (${((100 * right) / Math.max(1, y.length)).toFixed(1)}%)`);
  }
  const counts = new Map<string, number>();
  for (const v of y) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  if (counts.size < 2) {
    o.log(`only one value of '${label}' in the data (${[...counts.keys()].join(', ')}): nothing to evaluate`);
  } else {
    // The protocol's k = 29 needs at least 29 training profiles per fold; small runs use fewer (said below).
    const folds = Math.min(10, Math.min(...counts.values()));
    const k = Math.min(29, Math.floor((rows.length * (folds - 1)) / folds));
    if (folds < 2) {
      o.log(`a class of '${label}' has a single sample: nothing to evaluate`);
    } else {
      if (folds !== 10 || k !== 29) o.log(`note: ${rows.length} samples; evaluating with ${folds} folds and k = ${k} (the protocol's 10 folds and k = 29 need more data)`);
      try {
        evaluation = evaluateProfiles(X, y, { k, weights: 'uniform', folds, seed: 42 });
        o.log(formatEvaluation(evaluation, `${experiment}: kNN on entropy profiles vs stratified dummy, label '${label}'`));
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        o.log(`evaluation skipped: ${err.message}`);
      }
    }
  }
  const figures = o.noFigures ? [] : await writeRunFigures(o.out, experiment, rows, { label: experiment === 'tinystories' ? 'task' : 'correct' });
  return { out: o.out, ...res, seconds: (performance.now() - t0) / 1000, evaluation, figures };
}
