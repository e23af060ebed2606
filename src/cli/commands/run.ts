/** `entropylens run <experiment>`: the four protocol experiments end to end (extraction, dataset, evaluation, figures). */
import type { Command } from 'commander';
import { MMLU_PROMPT_TYPES, type MmluPromptType } from '../../datasets/mmlu-prompt-types.js';
import type { CommonRunOptions, RunSummary } from '../../experiments/run.js';
import { UserError } from '../../util/errors.js';
import { assetPath } from '../../util/package.js';
import { resolveShard } from '../../experiments/shard.js';
import { intArg, numberArg, QUANTIZE_HELP, quantizeArg, threadsArg, WEIGHT_DTYPE_HELP, weightDtypeArg } from '../args.js';

/** The experiment runs (engine, datasets, store, figures) load only when a run starts. */
const experiments = () => import('../../experiments/run.js');

interface Common {
  out?: string;
  limit?: string;
  batchSize: string;
  seed: string;
  updateSteps: string;
  referenceQuirks?: boolean;
  threads: string;
  cacheDir?: string;
  figures: boolean;
  shard?: string;
  shards?: string;
  dropDamaged?: boolean;
  topK: string;
  quantize?: string;
  weightDtype?: string;
}

function addCommon(cmd: Command, defaultOut: string): Command {
  return cmd
    .option('--out <dir>', `results folder (Parquet shards + manifest.json); an existing run there is resumed`, defaultOut)
    .option('--limit <n>', 'use N samples, drawn stratified over the experiment\'s label (tinystories: task, mmlu: subject, formats: format) and at random (--seed) within each')
    .option('--batch-size <n>', 'prompts per forward pass', '8')
    .option('--seed <n>', 'seed of sampling and scrambles', '0')
    .option('--update-steps <n>', 'write a shard every N samples (a killed run loses at most one shard)', '64')
    .option('--reference-quirks', "reproduce the reference's quirks (re-tokenising every step, accumulating scramble, answer extraction over prompt + completion, the phi-3 space)")
    .option('--threads <n>', 'CPU threads for ONNX Runtime; 0 = one per core; at most the core count', '0')
    .option('--cache-dir <dir>', 'weight/graph cache (default ~/.cache/entropylens)')
    .option('--quantize <kind>', QUANTIZE_HELP)
    .option('--weight-dtype <dtype>', WEIGHT_DTYPE_HELP)
    .option('--shard <i/N|auto>', 'process shard i of N (0-based; every N-th sample) into the shared --out; auto = from a Slurm array job (SLURM_ARRAY_TASK_ID/MIN/COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with --shards)')
    .option('--shards <N>', 'the number of shards, with --shard auto in a Kubernetes Indexed Job')
    .option('--top-k <k>', "also store the lens' top-k tokens and probabilities per step and layer, and the generated ids (columns generated_ids, topk_ids, topk_probs; 5 is good for `entropylens view`)", '0')
    .option('--drop-damaged', 'move damaged part files in --out aside (renamed *.damaged) and redo their samples, instead of stopping')
    .option('--no-figures', 'do not write figures');
}

function common(o: Common): CommonRunOptions {
  return {
    out: o.out!,
    limit: o.limit !== undefined ? intArg(o.limit, '--limit', 1) : undefined,
    batchSize: intArg(o.batchSize, '--batch-size', 1),
    seed: intArg(o.seed, '--seed', 0),
    updateSteps: intArg(o.updateSteps, '--update-steps', 1),
    referenceQuirks: Boolean(o.referenceQuirks),
    threads: threadsArg(o.threads),
    cacheDir: o.cacheDir,
    quantize: quantizeArg(o.quantize),
    weightDtype: weightDtypeArg(o.weightDtype),
    shard: resolveShard(o.shard, o.shards !== undefined ? intArg(o.shards, '--shards', 1) : undefined),
    dropDamaged: Boolean(o.dropDamaged),
    topK: intArg(o.topK, '--top-k', 0),
    noFigures: !o.figures,
    log: (line) => process.stdout.write(line + '\n'),
  };
}

function summary(s: RunSummary): void {
  process.stdout.write(
    `\n${s.written} samples written, ${s.skipped} already on disk, in ${s.seconds.toFixed(1)} s → ${s.out}` +
      (s.complete ? '' : ' (the run is not complete: see entropylens status)') +
      (s.figures.length ? `\nfigures: ${s.figures.length} PNG (+ SVG, Vega-Lite spec) in ${s.out}/figures` : '') +
      '\n',
  );
}

export function register(program: Command): void {
  const run = program.command('run').description('Run one of the protocol experiments end to end: extraction → results dataset → evaluation → figures');

  addCommon(
    run
      .command('tinystories')
      .description('Task identification (PROTOCOL §3): 24 prompts per story, kNN on profiles predicts the task group')
      .requiredOption('--model <model>', 'model folder or hub id')
      .option('--dataset <path|hub id>', 'TinyStories source: a file (.parquet/.jsonl/.csv/.txt, field "text"), an HF-layout folder, or a hub id', 'roneneldan/TinyStories')
      .option('--n-stories <n>', 'stories to use (the first N of the validation split)', '100')
      .option('--max-new-tokens <n>', 'generated tokens per prompt', '8')
      .option('--temperature <t>', 'sampling temperature', '1.0'),
    'results/tinystories',
  ).action(async (o: Common & { model: string; dataset: string; nStories: string; maxNewTokens: string; temperature: string }) => {
    summary(
      await (await experiments()).runTinyStories({
        ...common(o),
        model: o.model,
        dataset: o.dataset,
        nStories: intArg(o.nStories, '--n-stories', 1),
        maxNewTokens: intArg(o.maxNewTokens, '--max-new-tokens', 1),
        temperature: numberArg(o.temperature, '--temperature', 0),
      }),
    );
  });

  addCommon(
    run
      .command('mmlu')
      .description('Output correctness (PROTOCOL §4): greedy answers, kNN on profiles predicts whether the answer is right')
      .requiredOption('--model <model>', 'model folder or hub id')
      .option('--dataset <path|hub id>', 'MMLU source with the hub columns (question, subject, choices, answer)', 'cais/mmlu')
      .option('--prompt-type <type>', `one of ${MMLU_PROMPT_TYPES.join(', ')}`, 'base')
      .option('--max-new-tokens <n>', 'generated tokens per question', '8'),
    'results/mmlu',
  ).action(async (o: Common & { model: string; dataset: string; promptType: string; maxNewTokens: string }) => {
    if (!(MMLU_PROMPT_TYPES as readonly string[]).includes(o.promptType)) throw new UserError(`--prompt-type '${o.promptType}': expected one of ${MMLU_PROMPT_TYPES.join(', ')}`);
    summary(await (await experiments()).runMmlu({ ...common(o), model: o.model, dataset: o.dataset, promptType: o.promptType as MmluPromptType, maxNewTokens: intArg(o.maxNewTokens, '--max-new-tokens', 1) }));
  });

  addCommon(
    run
      .command('formats')
      .description('Format classification (PROTOCOL §5): 3 formats × 182 topics, Rényi profiles in windows, kNN accuracy')
      .requiredOption('--model <model>', 'model folder or hub id')
      .option('--topics <file>', 'JSON {"formats": [...], "topics": [...]}', assetPath('protocol', 'format-topics.json'))
      .option('--max-new-tokens <n>', 'generated tokens per prompt', '256')
      .option('--alpha <a...>', 'Rényi orders (1 = Shannon)', ['0.5', '1', '5'])
      .option('--windows <w>', 'windows of steps (must divide --max-new-tokens)', '8')
      .option('--k <k...>', 'neighbours to evaluate', ['3', '5', '7']),
    'results/formats',
  ).action(async (o: Common & { model: string; topics: string; maxNewTokens: string; alpha: string[]; windows: string; k: string[] }) => {
    summary(
      await (await experiments()).runFormats({
        ...common(o),
        model: o.model,
        topicsFile: o.topics,
        maxNewTokens: intArg(o.maxNewTokens, '--max-new-tokens', 1),
        alphas: o.alpha.map((a) => (a === 'inf' ? Infinity : numberArg(a, '--alpha', 0))),
        windows: intArg(o.windows, '--windows', 1),
        ks: o.k.map((k) => intArg(k, '--k', 1)),
      }),
    );
  });

  addCommon(
    run
      .command('families')
      .description('Model-family clustering (PROTOCOL §2): BOS-only prompts sampled from each model, profiles mapped with t-SNE')
      .requiredOption('--models <models...>', 'model folders or hub ids')
      .option('--samples <n>', 'samples per model', '64')
      .option('--max-new-tokens <n>', 'sampled tokens per sample', '32')
      .option('--temperature <t>', 'sampling temperature', '0.7')
      .option('--depth-grid <n>', 'interpolate profiles onto N points of normalised depth (default: zero-pad to the deepest model, as the reference)')
      .option('--perplexity <p>', 't-SNE perplexity', '20')
      .option('--tsne-iter <n>', 't-SNE iterations', '300')
      .option('--tsne-method <m>', 'barnes_hut (scikit-learn\'s default, as the reference) or exact', 'barnes_hut'),
    'results/families',
  ).action(async (o: Common & { models: string[]; samples: string; maxNewTokens: string; temperature: string; depthGrid?: string; perplexity: string; tsneIter: string; tsneMethod: string }) => {
    if (o.tsneMethod !== 'barnes_hut' && o.tsneMethod !== 'exact') throw new UserError(`--tsne-method '${o.tsneMethod}': expected barnes_hut or exact`);
    summary(
      await (await experiments()).runFamilies({
        ...common(o),
        models: o.models,
        samples: intArg(o.samples, '--samples', 1),
        maxNewTokens: intArg(o.maxNewTokens, '--max-new-tokens', 1),
        temperature: numberArg(o.temperature, '--temperature', 0),
        depthGrid: o.depthGrid !== undefined ? intArg(o.depthGrid, '--depth-grid', 2) : undefined,
        perplexity: numberArg(o.perplexity, '--perplexity', 1),
        tsneIter: intArg(o.tsneIter, '--tsne-iter', 250),
        tsneMethod: o.tsneMethod,
      }),
    );
  });
}
