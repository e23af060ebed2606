/**
 * The four protocol experiments end to end: samples → resumable extraction into a results dataset
 * → evaluation printed → figures written.
 */
import path from 'node:path';
import { classifyFormats, evaluateProfiles, formatClassification, formatEvaluation, type ClassificationResult, type EvaluationResult } from '../analysis/protocol.js';
import { TSNE } from '../analysis/manifold.js';
import type { WeightDtype } from '../graph/external.js';
import { formatPrompts } from '../datasets/formats.js';
import { loadMmlu, type MmluPromptType } from '../datasets/mmlu.js';
import { loadTinyStories } from '../datasets/tinystories.js';
import { resolveModelDir } from '../hub/index.js';
import { LensModel } from '../lens/model.js';
import { datasetStatus, duplicateRows, isFiniteRow, mergeDataset, readResults, rowFeatures, ResultsWriter, type ResultRow } from '../store/index.js';
import type { LabelType } from '../store/schema.js';
import { interpolateDepth } from '../util/depth.js';
import { UserError } from '../util/errors.js';
import { packageVersion } from '../util/package.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { runLoop, TARGET_METRICS, type ResultsSink, type RunLoopOptions, type RunLoopResult } from './runner.js';
import { shardModels, shardSamples, stratifiedLimit, type Shard } from './shard.js';
import { familySampleId, familySamples, formatSamples, mmluFinish, mmluSamples, tinystoriesSamples } from './samples.js';
import { writeRunFigures } from './figures.js';

export const CODE_VERSION = `entropylens ${packageVersion()}`;

export interface CommonRunOptions {
  out: string;
  limit?: number;
  batchSize: number;
  seed: number;
  updateSteps: number;
  referenceQuirks: boolean;
  threads?: number;
  cacheDir?: string;
  /** Store the lens' top-k tokens and probabilities per step and layer (0 = none). */
  topK?: number;
  /** Process one shard of the run (`--shard i/N`); null or absent = the whole run. */
  shard?: Shard | null;
  /** Move damaged part files aside (their samples are redone) instead of stopping. */
  dropDamaged?: boolean;
  /** Skip the figures (tests that only need data). */
  noFigures?: boolean;
  /** Weight-only int8 for the linear layers and the unembedding (MatMulNBits); absent = exact float32. */
  quantize?: 'int8';
  /** 16-bit weights kept 16-bit (default) or converted to float32: the same numbers, so not part of the run's options. */
  weightDtype?: WeightDtype;
  /** Where tables and summaries go. */
  log: (line: string) => void;
}

export interface RunSummary {
  out: string;
  written: number;
  skipped: number;
  seconds: number;
  /** Rows whose values hold NaN or Inf (stored as they are; evaluate, classify and plot leave them out). */
  nonFinite: number;
  /** Whether the whole dataset is complete (for a shard: every shard of the run). */
  complete: boolean;
  evaluation?: EvaluationResult;
  classification?: { alpha: number; result: ClassificationResult }[];
  figures: string[];
}

interface Sink {
  sink: ResultsSink;
  writer: ResultsWriter;
  /** Where this writer begins in its pending samples (see RunLoopOptions.startAt). */
  startAt: number;
}

async function openSink(o: CommonRunOptions, model: string, experiment: string, options: Record<string, unknown>, labelColumns: Record<string, LabelType>, targets: string[]): Promise<Sink> {
  const topK = o.topK ?? 0;
  // Recorded only when asked for, so runs without top-k keep the options of earlier versions (and resume).
  if (topK > 0) options = { ...options, topK };
  if (targets.length === 0) throw new UserError(`the ${experiment} run has no samples to profile: the dataset is empty (or --limit / --shard left none); check the data file`);
  const writer = await ResultsWriter.open(o.out, {
    model,
    experiment,
    // the quantization is part of what a run computed: a shard or resume with another is refused
    options: o.quantize ? { ...options, quantize: o.quantize } : options,
    codeVersion: CODE_VERSION,
    labelColumns,
    topK,
    shard: o.shard ?? null,
    targets,
    dropDamaged: o.dropDamaged,
    onDropped: (file) => o.log(`note: moved the damaged part file ${file} aside (${file}.damaged); its samples are redone`),
  });
  const sink: ResultsSink = {
    append: async (rows) => void (await writer.appendShard(rows)),
    has: (id) => writer.has(id),
    refresh: async () => void (await writer.refresh()),
  };
  // Alone: the run's own order. Beside other writers of the same work: a random place, so the
  // writers take different chunks instead of computing the same ones side by side.
  const others = await writer.otherActiveWriters();
  if (others > 0) o.log(`note: ${others} other writer${others === 1 ? ' is' : 's are'} at work in ${o.out}; this run shares the samples with ${others === 1 ? 'it' : 'them'}`);
  return { sink, writer, startAt: others > 0 ? Math.random() : 0 };
}

/**
 * After the loop: mark this writer done; when the dataset is complete and two writers wrote the same
 * samples (concurrent runs, a requeued shard), compact it so the Parquet files hold each sample once.
 */
async function finishWriting(o: CommonRunOptions, writer: ResultsWriter, res: RunLoopResult): Promise<{ complete: boolean }> {
  await writer.finish();
  const st = await datasetStatus(o.out);
  if (res.nonFinite > 0) o.log(`warning: ${res.nonFinite} stored rows hold NaN or Inf (the model produced non-finite entropies); evaluate, classify and plot leave them out`);
  if (!st.complete) {
    if (o.shard) o.log(`shard ${o.shard.index}/${o.shard.count} done; the run is not complete yet (entropylens status ${o.out})`);
    return { complete: false };
  }
  if ((await duplicateRows(o.out)) > 0) {
    const m = await mergeDataset(o.out);
    if (m.duplicateRows > 0) o.log(`merged ${m.partsBefore} part files into ${m.partsAfter}: ${m.duplicateRows} rows written twice by concurrent writers removed`);
  }
  return { complete: true };
}

/**
 * Load a model with the session for exactly the profile options the run loop will use (metrics,
 * batch size, top-k, targets) opened at once: a load prepared for other options opens a second
 * session on the first batch (GPT-2 small: +3.2 s per process, paid by every shard).
 */
async function loadModel(id: string, o: CommonRunOptions, loop: RunLoopOptions): Promise<LensModel> {
  const dir = await resolveModelDir(id);
  return LensModel.load(dir, { cacheDir: o.cacheDir, threads: o.threads, progress: true, quantize: o.quantize, weightDtype: o.weightDtype, profile: loop.profile });
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
  const samples = shardSamples(stratifiedLimit(tinystoriesSamples(stories.slice(0, o.nStories), { seed: o.seed, referenceQuirks: o.referenceQuirks }), o.limit, (s) => String(s.labels.task), o.seed), o.shard ?? null);
  const options = { dataset: o.dataset ?? 'roneneldan/TinyStories', nStories: o.nStories, limit: o.limit ?? null, maxNewTokens: o.maxNewTokens, temperature: o.temperature, seed: o.seed, referenceQuirks: o.referenceQuirks, metrics: ['shannon'] };
  const { sink, writer, startAt } = await openSink(o, o.model, 'tinystories', options, { prompt_type: 'string', task: 'string', variant: 'string', story_index: 'int' }, samples.map((s) => s.sampleId));
  const loop = loopOptions('tinystories', o.model, o, { maxNewTokens: o.maxNewTokens, temperature: o.temperature }, ['shannon'], startAt);
  const model = await loadModel(o.model, o, loop);
  try {
    const res = await runLoop(model, samples, sink, loop);
    return await finishEvaluation(o, writer, 'tinystories', 'task', res, t0);
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
  const rows = await loadMmlu(o.dataset);
  const samples = shardSamples(stratifiedLimit(mmluSamples(rows, o.promptType), o.limit, (s) => String(s.labels.subject), o.seed), o.shard ?? null);
  // besides Shannon, the gold letter's lens probability and rank per step and layer
  const options = { dataset: o.dataset ?? 'cais/mmlu', limit: o.limit ?? null, promptType: o.promptType, maxNewTokens: o.maxNewTokens, seed: o.seed, referenceQuirks: o.referenceQuirks, metrics: ['shannon'], targetMetrics: [...TARGET_METRICS] };
  const { sink, writer, startAt } = await openSink(o, o.model, 'mmlu', options, { subject: 'string', prompt_type: 'string', answer: 'string', question_index: 'int', extracted: 'string', correct: 'boolean' }, samples.map((s) => s.sampleId));
  const loop = loopOptions('mmlu', o.model, o, { maxNewTokens: o.maxNewTokens, temperature: 0 }, ['shannon'], startAt);
  loop.profile.targets = true;
  loop.metricNames = ['shannon', ...TARGET_METRICS];
  loop.finish = mmluFinish(o.referenceQuirks);
  const model = await loadModel(o.model, o, loop);
  try {
    const res = await runLoop(model, samples, sink, loop);
    return await finishEvaluation(o, writer, 'mmlu', 'correct', res, t0);
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
  const samples = shardSamples(stratifiedLimit(formatSamples(await formatPrompts(o.topicsFile)), o.limit, (s) => String(s.labels.format), o.seed), o.shard ?? null);
  const metrics = o.alphas.map((a) => (a === 1 ? 'shannon' : `renyi:${a === Infinity ? 'inf' : a}`));
  const options = { topics: path.basename(o.topicsFile), limit: o.limit ?? null, maxNewTokens: o.maxNewTokens, alphas: o.alphas, windows: o.windows, seed: o.seed, referenceQuirks: o.referenceQuirks, metrics };
  const { sink, writer, startAt } = await openSink(o, o.model, 'formats', options, { format: 'string', format_prompt: 'string', topic: 'string' }, samples.map((s) => s.sampleId));
  const loop = loopOptions('formats', o.model, o, { maxNewTokens: o.maxNewTokens, temperature: 0 }, metrics, startAt);
  const model = await loadModel(o.model, o, loop);
  let res: RunLoopResult;
  try {
    res = await runLoop(model, samples, sink, loop);
  } finally {
    await model.close();
  }
  const { complete } = await finishWriting(o, writer, res);
  if (!complete) return { out: o.out, ...res, complete, seconds: (performance.now() - t0) / 1000, figures: [] };
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
  return { out: o.out, ...res, complete, seconds: (performance.now() - t0) / 1000, classification, figures };
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
  const mine = shardModels(o.models, o.shard ?? null);
  const targets = mine.flatMap((m) => Array.from({ length: o.samples }, (_, i) => familySampleId(o.models[m], i)));
  const { sink, writer, startAt } = await openSink(o, o.models.join(','), 'families', options, { family: 'string', model_type: 'string', n_params: 'double', n_layers_model: 'int' }, targets);
  const res: RunLoopResult = { written: 0, skipped: 0, nonFinite: 0 };
  for (const m of mine) {
    if (Array.from({ length: o.samples }, (_, i) => familySampleId(o.models[m], i)).every((id) => sink.has(id))) {
      res.skipped += o.samples; // all on disk: no need to load the model
      continue;
    }
    const name = o.models[m];
    const loop = loopOptions('families', name, o, { maxNewTokens: o.maxNewTokens, temperature: o.temperature }, ['shannon'], startAt);
    const model = await loadModel(name, o, loop);
    try {
      const samples = familySamples(model, name, o.samples, m * o.samples);
      const r = await runLoop(model, samples, sink, loop);
      res.written += r.written;
      res.skipped += r.skipped;
      res.nonFinite += r.nonFinite;
    } finally {
      await model.close();
    }
  }
  const { complete } = await finishWriting(o, writer, res);
  if (!complete) return { out: o.out, ...res, complete, seconds: (performance.now() - t0) / 1000, figures: [] };
  const data = await readResults(o.out, { metric: 'shannon' });
  const rows = data.rows.filter(isFiniteRow);
  if (rows.length < data.rows.length) o.log(`note: ${data.rows.length - rows.length} profiles hold NaN or Inf and are left out of the t-SNE map and the figures`);
  const vectors = rows.map((r) => Array.from(rowFeatures(r, 1)));
  const X = o.depthGrid ? vectors.map((v) => interpolateDepth(v, o.depthGrid!)) : zeroPad(vectors);
  const distinct = new Set(X.map((x) => x.join(','))).size;
  let embedding: number[][] = [];
  if (rows.length > 3 && distinct < 2) {
    // t-SNE of identical points is undefined (its PCA start divides by a zero spread).
    o.log(`all ${rows.length} profiles are identical (greedy decoding of one prompt gives one sample per model; sample with --temperature > 0): no t-SNE map`);
  } else if (rows.length > 3) {
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
    writeFileAtomicSync(file, JSON.stringify(doc, null, 1));
    o.log(`t-SNE of ${rows.length} profiles (${doc.method}), perplexity ${perplexity}, KL ${tsne.klDivergence.toFixed(3)} → ${file}`);
    if (tsne.klDivergence < 0) {
      o.log('note: a negative KL is an artifact of the Barnes-Hut approximation when profiles coincide (identical samples); --tsne-method exact computes it exactly');
    }
  } else {
    o.log('fewer than 4 profiles: no t-SNE');
  }
  const figures = o.noFigures ? [] : await writeRunFigures(o.out, 'families', rows, { embedding });
  return { out: o.out, ...res, complete, seconds: (performance.now() - t0) / 1000, figures };
}

function zeroPad(vectors: number[][]): number[][] {
  const L = Math.max(...vectors.map((v) => v.length));
  return vectors.map((v) => [...v, ...new Array(L - v.length).fill(0)]);
}

// ------------------------------------------------------------------ shared

function loopOptions(experiment: string, modelName: string, o: CommonRunOptions, gen: { maxNewTokens: number; temperature: number }, metrics: string[], startAt: number): RunLoopOptions {
  return {
    experiment,
    modelName,
    profile: { ...gen, seed: o.seed, batchSize: o.batchSize, metrics, topK: o.topK ?? 0 },
    metricNames: metrics,
    updateSteps: o.updateSteps,
    retokenize: o.referenceQuirks,
    progressLabel: experiment,
    startAt,
  };
}

async function finishEvaluation(o: CommonRunOptions, writer: ResultsWriter, experiment: string, label: string, res: RunLoopResult, t0: number): Promise<RunSummary> {
  const { complete } = await finishWriting(o, writer, res);
  if (!complete) return { out: o.out, ...res, complete, seconds: (performance.now() - t0) / 1000, figures: [] };
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
  return { out: o.out, ...res, complete, seconds: (performance.now() - t0) / 1000, evaluation, figures };
}
