/** `entropylens demo`: the embedded model's decoded-layers view, then the task-identification experiment on fresh stories. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { generateStories, taskPrompt, DEMO_TASKS } from '../../datasets/demo-stories.js';
import { UserError } from '../../util/errors.js';
import { assetPath } from '../../util/package.js';
import { intArg, numberArg, resolveModel, threadsArg } from '../args.js';
import { printHuman } from '../view.js';

/** Seed of the demo's stories: not the training corpus' (seed 1) nor its held-out set (1000003). */
const DEMO_SEED = 20261127;
/** Recorded as the dataset of the demo's results, so a rerun knows the folder is its own. */
const DEMO_DATASET = 'entropylens demo stories';

interface DemoOptions {
  model?: string;
  out: string;
  nStories: string;
  maxNewTokens: string;
  temperature: string;
  seed: string;
  batchSize: string;
  threads: string;
  cacheDir?: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('See what entropylens is for in a minute: the embedded trained model, one decoded-layers view, and the task-identification experiment on fresh stories')
    .option('--model <model>', 'another model folder or hub id (default: the embedded demo model)')
    .option('--out <dir>', 'where the results dataset and figures go', 'entropylens-demo')
    .option('--n-stories <n>', 'fresh stories to generate (24 prompts each)', '20')
    .option('--max-new-tokens <n>', 'generated tokens per prompt', '8')
    .option('--temperature <t>', 'sampling temperature (the protocol uses 1.0)', '1.0')
    .option('--seed <n>', 'seed of the stories and of sampling', String(DEMO_SEED))
    .option('--batch-size <n>', 'prompts per forward pass', '24')
    .option('--threads <n>', 'CPU threads; 0 = one per core; at most the core count', '0')
    .option('--cache-dir <dir>', 'weight/graph cache (default ~/.cache/entropylens)')
    .addHelpText(
      'after',
      `
The embedded model is a 6-layer Llama (1.5 M parameters) that entropylens trained on stories it
generates itself, each followed by one of the six task questions of the Entropy-Lens TinyStories
experiment and its answer (see assets/demo-model/README.md). The demo generates new stories with
another seed, asks the 24 protocol prompts about each, and tests whether a kNN on the entropy
profiles alone can tell which task group (continuation / counting / semantic) a prompt asks for.`,
    )
    .action(async (o: DemoOptions) => {
      await runDemo(o);
    });
}

async function runDemo(o: DemoOptions): Promise<void> {
  const t0 = performance.now();
  // the engine, the store and the experiment loop load with the command that uses them
  const { runTinyStories } = await import('../../experiments/run.js');
  const { LensModel } = await import('../../lens/model.js');
  const { MANIFEST_FILE } = await import('../../store/index.js');
  const modelDir = o.model ? await resolveModel(o.model) : assetPath('demo-model');
  const nStories = intArg(o.nStories, '--n-stories', 1);
  const maxNewTokens = intArg(o.maxNewTokens, '--max-new-tokens', 1);
  const temperature = numberArg(o.temperature, '--temperature', 0);
  const seed = intArg(o.seed, '--seed', 0);
  const threads = threadsArg(o.threads);
  const out = path.resolve(o.out);
  const log = (line: string): void => void process.stdout.write(line + '\n');

  // The demo's folder holds only the demo's own output: start it afresh each time, but never
  // touch anything else (another run's results included).
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) {
    const manifest = path.join(out, MANIFEST_FILE);
    let ours = false;
    try {
      ours = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { options?: { dataset?: unknown } }).options?.dataset === DEMO_DATASET;
    } catch {
      ours = false;
    }
    if (!ours) throw new UserError(`--out ${out} exists and does not hold an earlier demo's results; choose another --out`);
    fs.rmSync(out, { recursive: true, force: true });
  }

  const stories = generateStories(seed, nStories);
  log(`entropylens demo — model: ${o.model ?? 'the embedded demo model (assets/demo-model)'}`);
  log(`${nStories} fresh stories (seed ${seed}), 24 prompts each, ${maxNewTokens} tokens at temperature ${temperature}\n`);

  // 1. One prompt, the decoded-layers view.
  const model = await LensModel.load(modelDir, { cacheDir: o.cacheDir, threads });
  const task = DEMO_TASKS.find((t) => t.key === 'semantic_prompt_2') ?? DEMO_TASKS[0];
  const prompt = taskPrompt(stories[0].text, task.prompt, 'base');
  log('1. What the lens sees: every block decoded through the final norm and unembedding, at every generated token');
  log('   (entropy in nats; it falls as the belief sharpens with depth)\n');
  for await (const r of model.profile([prompt], { maxNewTokens: Math.min(maxNewTokens, 6), temperature: 0 })) printHuman(model, r, true);
  await model.close();

  // 2. The task-identification experiment on all prompts.
  log('\n2. Task identification (PROTOCOL §3): can the entropy profiles alone tell the task apart?\n');
  const summary = await runTinyStories({
    out,
    model: modelDir,
    stories,
    dataset: DEMO_DATASET,
    nStories,
    maxNewTokens,
    temperature,
    seed,
    batchSize: intArg(o.batchSize, '--batch-size', 1),
    updateSteps: 240,
    referenceQuirks: false,
    threads,
    cacheDir: o.cacheDir,
    log,
  });
  log(`\nwrote the results dataset (Parquet + manifest.json) and ${summary.figures.length} figures (PNG, SVG, Vega-Lite) to ${out}`);
  for (const f of summary.figures) log(`  ${path.relative(process.cwd(), f)}`);
  log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s. Next: entropylens evaluate ${path.relative(process.cwd(), out) || '.'} --label task --json, or entropylens profile <your model> --prompt "…"`);
}
