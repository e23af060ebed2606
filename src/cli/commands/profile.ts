/** `entropylens profile`: entropy profiles of prompts, as the decoded-layers view or JSON. */
import fs from 'node:fs';
import readline from 'node:readline';
import type { Command } from 'commander';
import { nonFiniteCells } from '../../lens/finite.js';
import type { Intervention } from '../../graph/lens-options.js';
import { METRIC_HELP } from '../../graph/metric-names.js';
import type { ProfileResult, PromptInput } from '../../lens/model.js';
import { UserError } from '../../util/errors.js';
import { openRegularFileSync } from '../../util/files.js';
import { readVectorFile } from '../../lens/vector-file.js';
import { modelJson, resultJson } from '../../lens/json.js';
import { parseIdList, parseInterventions } from '../../util/options.js';
import { packageVersion } from '../../util/package.js';
import { ProgressBar } from '../../util/progress.js';
import { collect, intArg, numberArg, QUANTIZE_HELP, quantizeArg, resolveModel, threadsArg, WEIGHT_DTYPE_HELP, weightDtypeArg } from '../args.js';
import { layerNames, printHuman } from '../view.js';

interface ProfileCliOptions {
  prompt: string[];
  promptsFile?: string;
  inputIds: string[];
  maxNewTokens?: string;
  temperature: string;
  seed: string;
  metrics: string;
  windows?: string;
  topK: string;
  batchSize: string;
  threads: string;
  json?: boolean;
  bos: boolean;
  stopAtEos?: boolean;
  cacheDir?: string;
  device: string;
  anchors?: string;
  anchorIds?: string;
  scaleBlock: string[];
  skipBlock: string[];
  allowNan?: boolean;
  out?: string;
  npz?: string;
  positions: string;
  lensEmbeddings?: boolean;
  target: string[];
  targetIds?: string;
  addVector: string[];
  quantize?: string;
  weightDtype?: string;
}

export function register(program: Command): void {
  program
    .command('profile')
    .description('Generate from prompts and print the logit-lens entropy of every block at every generated token')
    .argument('<model>', 'model folder (config.json + *.safetensors [+ tokenizer.json]) or a Hugging Face hub id')
    .option('--prompt <text>', 'a prompt (repeatable)', collect, [])
    .option('--prompts-file <file>', 'JSONL file with one {"prompt": "..."} per line')
    .option('--input-ids <ids>', 'a prompt as comma-separated token ids, used verbatim: no BOS added (repeatable)', collect, [])
    .option('--max-new-tokens <n>', 'tokens to generate per prompt (the steps T); default 8, with --positions prompt 0')
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', '0')
    .option('--seed <n>', 'seed of the sampler (same seed, same tokens)', '0')
    .option('--metrics <list>', `comma list of lens metrics: ${METRIC_HELP}`, 'shannon')
    .option('--windows <w>', 'also report the mean over W consecutive windows of steps (W must divide --max-new-tokens)')
    .option('--top-k <k>', 'also return the lens top-k tokens and probabilities per layer', '0')
    .option('--anchors <list>', 'anchor strings for anchored:* metrics, comma-separated (each tokenized without BOS)')
    .option('--anchor-ids <ids>', 'anchor token ids for anchored:* metrics, comma-separated')
    .option('--scale-block <L:F>', 'multiply the residual stream after block L by F (repeatable)', collect, [])
    .option('--skip-block <L>', 'make block L the identity on the residual stream (repeatable)', collect, [])
    .option('--add-vector <L:FILE[:SCALE]>', 'add SCALE (default 1) × the vector in FILE (.npy float32/float64, or safetensors with one tensor; d_model values) to the residual stream after block L at every position (repeatable)', collect, [])
    .option('--positions <which>', 'where the lens looks: last (each generated step), prompt (every prompt position; generates nothing unless --max-new-tokens says so) or all (both)', 'last')
    .option('--lens-embeddings', 'also lens the input of block 0 (the embeddings), as a first layer named "embed"')
    .option('--target <text>', 'report the lens probability and rank of this text\'s first token at every layer and step; once for all prompts or once per prompt, in order (repeatable)', collect, [])
    .option('--target-ids <ids>', 'target token ids, comma-separated: one for all prompts or one per prompt')
    .option('--batch-size <n>', 'prompts per forward pass (left-padded)', '8')
    .option('--threads <n>', 'CPU threads for ONNX Runtime; 0 = one per core; at most the core count', '0')
    .option('--no-bos', 'do not prepend the tokenizer\'s BOS token to text prompts')
    .option('--stop-at-eos', 'stop a prompt when it generates an end-of-sequence token')
    .option('--cache-dir <dir>', 'where the weight index, the weights that cannot be read in place and the graphs are cached (default: ~/.cache/entropylens)')
    .option('--quantize <kind>', QUANTIZE_HELP)
    .option('--weight-dtype <dtype>', WEIGHT_DTYPE_HELP)
    .option('--device <name>', 'cpu or cuda', 'cpu')
    .option('--json', 'print one JSON document (schema in the README)')
    .option('--allow-nan', 'exit 0 even when a profile holds NaN or Inf (printed as NaN, null in JSON)')
    .option('--out <dir>', 'also write the results as a dataset (Parquet + manifest, as `run` does: evaluate, plot, pandas, DuckDB read it); an existing one with the same options is resumed')
    .option('--npz <file>', 'also write NumPy arrays (metric → [prompts, steps, layers], ids; numpy.load reads them)')
    .addHelpText(
      'after',
      `
Examples:
  entropylens profile ./gpt2 --prompt "The capital of France is" --max-new-tokens 4
  entropylens profile ./gpt2 --input-ids 50256,464,3139 --metrics shannon,renyi:0.5,renyi:inf --json
  entropylens profile ./gpt2 --prompts-file prompts.jsonl --windows 2 --max-new-tokens 8 --json > out.json
  entropylens profile ./gpt2 --prompt "The Eiffel Tower is in the city of" --positions prompt
  entropylens profile ./gpt2 --prompt "The capital of France is" --target " Paris" --metrics shannon,rank:final
  entropylens profile ./gpt2 --prompt "I think that" --add-vector 6:happy.npy:4

Layer 0 is the output of block 0 (the embeddings are not part of the profile unless
--lens-embeddings adds them as layer "embed"); the last layer's lens is the model's own output
distribution. Entropies are in nats. With --positions prompt|all, position p of the prompt is the
text up to and including token p, and next-token ranks and probabilities are reported per layer.`,
    )
    .action(async (modelArg: string, o: ProfileCliOptions) => {
      await runProfile(modelArg, o);
    });
}

/**
 * The prompts of a run, read lazily: --prompt texts, then --prompts-file line by line, then
 * --input-ids. A prompts file is JSONL (each line an object with a "prompt" or "text" field) or, when
 * its first non-empty line is not a JSON object, plain text with one prompt per line.
 */
async function* readPrompts(o: ProfileCliOptions): AsyncGenerator<PromptInput> {
  for (const text of o.prompt) yield { text };
  if (o.promptsFile) yield* promptsFromFile(o.promptsFile);
  for (const ids of o.inputIds) yield { ids: parseIdList(ids, '--input-ids') };
}

async function* promptsFromFile(file: string): AsyncGenerator<PromptInput> {
  const fd = openRegularFileSync(file, '--prompts-file');
  const lines = readline.createInterface({ input: fs.createReadStream('', { fd, encoding: 'utf8' }), crlfDelay: Infinity });
  let jsonl: boolean | undefined;
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    jsonl ??= line.trimStart().startsWith('{');
    if (!jsonl) {
      yield { text: line };
      continue;
    }
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new UserError(`--prompts-file ${file}, line ${n}: not valid JSON (the file is JSONL, as its first line is a JSON object)`);
    }
    const r = row as { prompt?: unknown; text?: unknown; target?: unknown };
    const p = typeof r.prompt === 'string' ? r.prompt : r.text;
    if (typeof p !== 'string') throw new UserError(`--prompts-file ${file}, line ${n}: needs a string field "prompt" (or "text")`);
    if (r.target !== undefined && typeof r.target !== 'string' && !(typeof r.target === 'number' && Number.isInteger(r.target))) {
      throw new UserError(`--prompts-file ${file}, line ${n}: "target" must be a text or a token id`);
    }
    yield r.target !== undefined ? { text: p, target: r.target as string | number } : { text: p };
  }
}

/** Whether a JSONL prompts file's first line gives a "target" (then every line must). */
function fileHasTargets(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(1 << 16);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const first = buf.subarray(0, n).toString('utf8').split('\n').find((l) => l.trim() !== '');
      if (!first?.trimStart().startsWith('{')) return false;
      return (JSON.parse(first) as { target?: unknown }).target !== undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Lines with a prompt in a prompts file (a quick pass for the progress total), or undefined for a non-file. */
function countPromptLines(file: string): number | undefined {
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    let count = 0;
    const buf = Buffer.alloc(1 << 20);
    const fd = fs.openSync(file, 'r');
    let last = 10;
    try {
      for (let got; (got = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) {
        for (let i = 0; i < got; i++) {
          if (buf[i] === 10 && last !== 10) count++;
          last = buf[i];
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    return count + (last !== 10 ? 1 : 0);
  } catch {
    return undefined;
  }
}

/**
 * --add-vector L:FILE[:SCALE] values: block, file (read and checked against d_model) and scale. The
 * last `:number` is the scale, so a file name may itself hold colons.
 */
export function parseAddVectors(specs: string[], d: number): Intervention[] {
  return specs.map((spec) => {
    const m = /^(\d+):(.+?)(?::([-+0-9.eE]+))?$/.exec(spec.trim());
    const scale = m?.[3] !== undefined ? Number(m[3]) : 1;
    if (!m || !Number.isFinite(scale)) throw new UserError(`--add-vector '${spec}': expected BLOCK:FILE or BLOCK:FILE:SCALE, e.g. 6:happy.npy:4`);
    const { values } = readVectorFile(m[2], d, `--add-vector ${spec}`);
    return { kind: 'add' as const, layer: Number(m[1]), factor: scale, vector: values, source: m[2] };
  });
}

/** An intervention as recorded in --json and in datasets: a vector by its file, size and norm, not its values. */
export function describeIntervention(iv: Intervention): Record<string, unknown> {
  if (iv.kind === 'add') {
    const v = iv.vector ?? [];
    return { kind: 'add', layer: iv.layer, file: iv.source ?? null, scale: iv.factor ?? 1, d: v.length, norm: Math.hypot(...v) };
  }
  return { kind: iv.kind, layer: iv.layer, ...(iv.kind === 'scale' ? { factor: iv.factor } : {}) };
}

async function runProfile(modelArg: string, o: ProfileCliOptions): Promise<void> {
  const positions = o.positions;
  if (positions !== 'last' && positions !== 'prompt' && positions !== 'all') throw new UserError(`--positions '${positions}': expected last, prompt or all`);
  const maxNewTokens = o.maxNewTokens !== undefined ? intArg(o.maxNewTokens, '--max-new-tokens', positions === 'last' ? 1 : 0) : positions === 'prompt' ? 0 : 8;
  if (positions !== 'last' && o.out) throw new UserError('--out stores the generated steps only; write the lens over prompt positions with --json or --npz (or leave --positions at last)');
  if (o.target.length && o.targetIds) throw new UserError('give targets as --target TEXT or as --target-ids IDS, not both');
  const temperature = numberArg(o.temperature, '--temperature', 0);
  const seed = intArg(o.seed, '--seed', 0);
  const topK = intArg(o.topK, '--top-k', 0);
  const batchSize = intArg(o.batchSize, '--batch-size', 1);
  const threads = threadsArg(o.threads);
  const windows = o.windows !== undefined ? intArg(o.windows, '--windows', 1) : undefined;
  if (windows !== undefined && maxNewTokens === 0) throw new UserError('--windows needs generated steps: give --max-new-tokens');
  if (windows !== undefined && maxNewTokens % windows !== 0) {
    throw new UserError(`--windows ${windows} does not divide --max-new-tokens ${maxNewTokens}; choose a divisor (e.g. 1 or ${maxNewTokens})`);
  }
  if (o.device !== 'cpu' && o.device !== 'cuda') throw new UserError(`--device '${o.device}': expected cpu or cuda`);
  const interventions: Intervention[] = parseInterventions(o.scaleBlock, o.skipBlock);
  if (o.prompt.length === 0 && !o.promptsFile && o.inputIds.length === 0) throw new UserError('no prompt given: use --prompt TEXT, --prompts-file FILE or --input-ids 1,2,3');
  const fileCount = o.promptsFile ? countPromptLines(o.promptsFile) : 0;
  const total = fileCount === undefined ? undefined : o.prompt.length + fileCount + o.inputIds.length;

  const t0 = performance.now();
  const dir = await resolveModel(modelArg);
  let anchorIds: number[] | undefined;
  if (o.anchorIds) anchorIds = parseIdList(o.anchorIds, '--anchor-ids');
  if (o.anchors) {
    // text anchors are tokenized before loading, so the graph built at load is the run's own
    const { TextTokenizer } = await import('../../tokenizer/index.js');
    const tokenizer = TextTokenizer.load(dir);
    if (!tokenizer) throw new UserError(`--anchors needs a tokenizer, and ${dir} has no tokenizer.json; use --anchor-ids`);
    // An anchor is one token: a string's first token; a longer string is said so.
    const ids = o.anchors
      .split(',')
      .filter((s) => s.length > 0)
      .map((s) => {
        const toks = tokenizer.encode(s);
        if (toks.length === 0) throw new UserError(`--anchors: ${JSON.stringify(s)} tokenizes to nothing`);
        noteFirstToken(toks, (id) => tokenizer.decode([id]), s, '--anchors', 'is the anchor');
        return toks[0];
      });
    anchorIds = [...new Set([...(anchorIds ?? []), ...ids])];
  }
  // steering vectors are read and checked (d_model from config.json) before the model loads
  if (o.addVector.length) {
    const { openModel } = await import('../../models/load.js');
    interventions.push(...parseAddVectors(o.addVector, openModel(dir).spec.dModel));
  }
  const targets: (string | number)[] = o.targetIds ? parseIdList(o.targetIds, '--target-ids') : o.target;
  // a JSONL prompts file may give each prompt its own "target"
  const fileTargets = o.promptsFile !== undefined && fileHasTargets(o.promptsFile);
  if (fileTargets && targets.length) throw new UserError(`--prompts-file ${o.promptsFile} gives targets; leave out --target / --target-ids`);
  if (total !== undefined && targets.length > 1 && targets.length !== total) {
    throw new UserError(`${targets.length} targets for ${total} prompts: give one target for all prompts or exactly one per prompt`);
  }
  const profileOpts = { metrics: o.metrics, topK, batchSize, anchorIds, interventions, positions, lensEmbeddings: o.lensEmbeddings, ...(targets.length || fileTargets ? { targets: true } : {}) } as const;
  const { LensModel } = await import('../../lens/model.js');
  const quantize = quantizeArg(o.quantize);
  const weightDtype = weightDtypeArg(o.weightDtype);
  const model = await LensModel.load(dir, { cacheDir: o.cacheDir, threads, device: o.device, progress: true, quantize, weightDtype, profile: profileOpts });
  const targetIds = targets.map((t, i) => model.targetId(t, targets.length > 1 ? `target ${i + 1}` : typeof t === 'number' ? '--target-ids' : '--target'));
  for (const t of targets) if (typeof t === 'string') noteFirstToken(model.tokenIds(t), (id) => model.tokenText(id), t, '--target', 'is used');
  const loadSeconds = (performance.now() - t0) / 1000;

  const bar = new ProgressBar({ total: total ?? 0, label: 'profiling', unit: 'prompts' });
  const t1 = performance.now();
  let shown = 0;
  // --json streams one document: its head now, each result as it is ready, the tail at the end.
  if (o.json) {
    const head = {
      entropylens: { version: packageVersion() },
      model: modelJson(model),
      options: {
        max_new_tokens: maxNewTokens,
        temperature,
        seed,
        metrics: o.metrics.split(',').map((m) => m.trim()).filter((m) => m),
        windows: windows ?? null,
        top_k: topK,
        batch_size: batchSize,
        bos: o.bos,
        stop_at_eos: Boolean(o.stopAtEos),
        anchors: anchorIds ? anchorIds.map((id) => ({ id, token: model.tokenText(id) })) : null,
        interventions: interventions.map(describeIntervention),
        positions,
        lens_embeddings: Boolean(o.lensEmbeddings),
        quantize: quantize ?? null,
        weight_dtype: weightDtype ?? 'checkpoint',
        targets: targetIds.length ? targetIds.map((id) => ({ id, token: model.tokenText(id) })) : null,
      },
      layers: layerNames(model, model.spec.nLayers + (o.lensEmbeddings ? 1 : 0)),
    };
    process.stdout.write(JSON.stringify(head).slice(0, -1) + ',"results":[');
  } else if (anchorIds) {
    process.stdout.write(`anchors: ${anchorIds.map((id) => `${JSON.stringify(model.tokenText(id) ?? '')} (#${id})`).join(', ')}\n\n`);
  }
  const broken: string[] = [];
  let brokenCells = 0;
  // --out: a dataset of its own; prompts already in it (same options) are skipped, keeping their sampler streams.
  const output = o.out || o.npz ? await import('../profile-output.js') : undefined;
  const dataset = o.out
    ? await output!.ProfileDatasetWriter.open(o.out, modelArg, {
        maxNewTokens,
        temperature,
        seed,
        metrics: o.metrics,
        windows: windows ?? null,
        bos: o.bos,
        stopAtEos: Boolean(o.stopAtEos),
        anchorIds: anchorIds ?? null,
        interventions: interventions.map(describeIntervention),
        ...(o.lensEmbeddings ? { lensEmbeddings: true } : {}),
        ...(targetIds.length ? { targetIds } : {}),
        ...(quantize ? { quantize } : {}),
      })
    : undefined;
  // The prompts handed to profile() that have no result yet (results come back in the same order).
  const original: { index: number; prompt: PromptInput }[] = [];
  async function* todo(): AsyncGenerator<PromptInput> {
    let i = 0;
    for await (const p of readPrompts(o)) {
      const index = i++;
      if (targetIds.length > 1 && index >= targetIds.length) throw new UserError(`prompt ${index + 1} has no target: ${targetIds.length} targets were given; give one for all prompts or one per prompt`);
      if (dataset?.has(index, p)) continue;
      if (dataset) original.push({ index, prompt: p });
      const target = targetIds.length ? { target: targetIds[targetIds.length > 1 ? index : 0] } : {};
      yield typeof p === 'string' ? { text: p, stream: index, ...target } : { ...p, stream: index, ...target };
    }
  }
  const forNpz: ProfileResult[] = [];
  for await (const r of model.profile(todo(), {
    maxNewTokens,
    temperature,
    seed,
    metrics: o.metrics,
    windows,
    topK,
    batchSize,
    stopAtEos: o.stopAtEos,
    bos: o.bos,
    anchorIds,
    interventions,
    positions,
    lensEmbeddings: o.lensEmbeddings,
    ...(targetIds.length || fileTargets ? { targets: true } : {}),
    onProgress: () => bar.tick(0),
  })) {
    bar.tick();
    if (dataset) {
      const from = original.shift()!;
      r.index = from.index;
      await dataset.add(r, from.prompt);
    }
    if (o.npz) forNpz.push(r);
    const bad = nonFiniteCells(r);
    if (bad.count > 0) {
      brokenCells += bad.count;
      const f = bad.first!;
      broken.push(`prompt ${r.index + 1} (${f.metric} = ${f.value} at step ${f.step}, layer ${f.layer}${bad.count > 1 ? `, ${bad.count} values in all` : ''})`);
    }
    if (o.json) process.stdout.write((shown++ === 0 ? '' : ',') + JSON.stringify(resultJson(r, (id) => model.tokenText(id))));
    else printHuman(model, r, shown++ === 0);
  }
  bar.finish();
  if (targetIds.length > 1 && shown !== targetIds.length && broken.length === 0) {
    process.stderr.write(`entropylens: warning: ${targetIds.length} targets were given for ${shown} prompts; the extra targets were not used\n`);
  }
  await dataset?.close();
  if (o.npz) await output!.writeProfileNpz(o.npz, forNpz);
  const generateSeconds = (performance.now() - t1) / 1000;
  await model.close();
  if (o.json) {
    const tail = {
      timing: { load_seconds: round(loadSeconds), generate_seconds: round(generateSeconds) },
      memory: { peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) },
    };
    process.stdout.write('],' + JSON.stringify(tail).slice(1) + '\n');
  } else {
    process.stdout.write(`\nloaded in ${loadSeconds.toFixed(2)} s, generated in ${generateSeconds.toFixed(2)} s\n`);
  }
  if (broken.length > 0) {
    process.stderr.write(
      `entropylens: warning: ${brokenCells} profile value${brokenCells === 1 ? '' : 's'} of ${broken.length} prompt${broken.length === 1 ? '' : 's'} ` +
        `${brokenCells === 1 ? 'is' : 'are'} NaN or Inf: ${broken.slice(0, 3).join('; ')}${broken.length > 3 ? '; …' : ''}. ` +
        'The model computes non-finite numbers (a NaN or Inf weight, a broken config, or an intervention too large)' +
        (o.allowNan ? '.\n' : '; the output above holds them (null in JSON). Pass --allow-nan to accept this and exit 0.\n'),
    );
    if (!o.allowNan) process.exitCode = 1;
  }
}

/** A text target or anchor is its first token: say so (`what`: "is used", "is the anchor") when `ids`, the text's tokens, are more than one. */
function noteFirstToken(ids: number[], decode: (id: number) => string | null, text: string, option: string, what: string): void {
  if (ids.length > 1) {
    const pieces = ids.map((id) => JSON.stringify(decode(id))).join(' + ');
    process.stderr.write(`entropylens: note: ${option} ${JSON.stringify(text)} is ${ids.length} tokens (${pieces}); its first token ${JSON.stringify(decode(ids[0]))} ${what}\n`);
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
