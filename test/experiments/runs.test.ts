/**
 * The four experiments end to end through the real CLI, on tiny random models (with the demo's
 * tokenizer) and synthetic data written here: dataset rows and labels, evaluation printed, figures
 * written; resume after SIGKILL; refusal to resume with other options.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateStories } from '../../src/datasets/demo-stories.js';
import { LensModel, type ProfileResult } from '../../src/lens/model.js';
import { readResults } from '../../src/store/index.js';
import { CLI, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

let root: string;
let model: string;
let cache: string;
let stories: string;
let mmlu: string;
let topics: string;

before(() => {
  root = tempDir('el-runs-');
  cache = path.join(root, 'cache');
  model = writeTinyLlama(path.join(root, 'tiny-llama'), { layers: 3, seed: 3 });
  stories = path.join(root, 'stories.jsonl');
  fs.writeFileSync(stories, generateStories(99, 6).map((s) => JSON.stringify({ text: s.text })).join('\n') + '\n');
  // synthetic multiple-choice questions with the hub's columns
  const subjects = ['arithmetic', 'colours'];
  const rows = Array.from({ length: 40 }, (_, i) => ({
    question: `What is ${i} plus ${i % 7}?`,
    subject: subjects[i % 2],
    choices: [`${i + (i % 7)}`, `${i + 1}`, `${i * 2 + 3}`, `${i + 11}`],
    answer: i % 4,
  }));
  mmlu = path.join(root, 'mmlu.jsonl');
  fs.writeFileSync(mmlu, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  topics = path.join(root, 'topics.json');
  fs.writeFileSync(topics, JSON.stringify({ formats: ['Write a poem about ', 'Write a story about ', 'Write a list about '], topics: ['the sea', 'a cat', 'the moon', 'bread', 'rain', 'a train', 'music', 'snow', 'a garden', 'the wind'] }));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

function pngs(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'figures')).filter((f) => f.endsWith('.png'));
}

describe('entropylens run', () => {
  it('tinystories: 24 prompts per story with labels, evaluation printed, figures written', async () => {
    const out = path.join(root, 'ts');
    const r = runCli(['run', 'tinystories', '--model', model, '--dataset', stories, '--n-stories', '5', '--max-new-tokens', '2', '--out', out, '--cache-dir', cache, '--update-steps', '50']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ROC-AUC/);
    const data = await readResults(out);
    assert.equal(data.rows.length, 5 * 24);
    assert.equal(new Set(data.rows.map((x) => x.sample_id)).size, 120);
    assert.deepEqual([...new Set(data.rows.map((x) => x.labels.task))].sort(), ['continuation', 'counting', 'semantic']);
    assert.equal(new Set(data.rows.map((x) => x.labels.prompt_type)).size, 24);
    for (const x of data.rows) {
      assert.equal(x.metric, 'shannon');
      assert.equal(x.n_steps, 2);
      assert.equal(x.n_layers, 3);
      assert.equal(x.values.length, 6);
      assert.equal(x.labels.task, String(x.labels.prompt_type).split('_')[0]);
    }
    assert.equal(data.manifest.shards.length, 3, 'one part file per 50 samples');
    assert.ok(pngs(out).length >= 4, `figures: ${pngs(out)}`);
  });

  it('mmlu: correctness labels from the extracted answer, evaluation or a clear reason printed', async () => {
    const out = path.join(root, 'mmlu');
    const r = runCli(['run', 'mmlu', '--model', model, '--dataset', mmlu, '--prompt-type', 'instruct', '--max-new-tokens', '3', '--out', out, '--cache-dir', cache]);
    assert.equal(r.code, 0, r.stderr);
    const data = await readResults(out, { metric: 'shannon' });
    assert.equal(data.rows.length, 40);
    // the gold letter's lens probability and rank are stored too: equal to what profile computes for
    // the same prompt and target, rank 0 at the last layer exactly when the greedy token is the letter
    const all = await readResults(out);
    assert.deepEqual([...new Set(all.rows.map((x) => x.metric))].sort(), ['shannon', 'target_prob', 'target_rank']);
    const lens = await LensModel.load(model, { cacheDir: cache, threads: 1 });
    try {
      for (const x of data.rows.slice(0, 6)) {
        const prob = all.rows.find((y) => y.sample_id === x.sample_id && y.metric === 'target_prob')!;
        const rank = all.rows.find((y) => y.sample_id === x.sample_id && y.metric === 'target_rank')!;
        let got: ProfileResult | undefined;
        for await (const r of lens.profile([{ text: x.prompt, target: String(x.labels.answer) }], { maxNewTokens: 3, targets: true })) got = r;
        const L = rank.n_layers;
        assert.deepEqual(Array.from(rank.values), got!.target!.rank.flat());
        Array.from(prob.values).forEach((v, i) => assert.ok(Math.abs(v - Math.exp(got!.target!.logprob.flat()[i])) <= 1e-6));
        assert.equal(rank.values[L - 1] === 0, got!.generatedIds[0] === got!.target!.id, `${x.sample_id}: rank 0 at the last layer iff the greedy token is the gold letter`);
      }
    } finally {
      await lens.close();
    }
    for (const x of data.rows) {
      assert.equal(typeof x.labels.correct, 'boolean');
      assert.ok(['A', 'B', 'C', 'D'].includes(String(x.labels.answer)));
      assert.ok(x.prompt.startsWith('The following is a multiple choice question about '));
      assert.equal(x.labels.correct, x.labels.extracted === x.labels.answer);
    }
    const right = data.rows.filter((x) => x.labels.correct === true).length;
    assert.match(r.stdout, new RegExp(`correct answers: ${right} of 40 `));
    const classes = new Set(data.rows.map((x) => x.labels.correct));
    if (classes.size === 2) assert.match(r.stdout, /ROC-AUC/);
    else assert.match(r.stdout, /only one value of 'correct'/);
  });

  it('a run opens one session: the graph loaded with the model is the one its loop profiles with', () => {
    // a load prepared for other options than the loop's builds and opens a second graph on the
    // first batch (run mmlu did: its loop asks for the gold letter's rank and probability)
    for (const args of [
      ['mmlu', '--dataset', mmlu, '--limit', '4', '--max-new-tokens', '2'],
      ['tinystories', '--dataset', stories, '--n-stories', '1', '--limit', '4', '--max-new-tokens', '2', '--top-k', '3'],
    ]) {
      const own = path.join(root, `one-session-${args[0]}`);
      const r = runCli(['run', args[0], '--model', model, ...args.slice(1), '--no-figures', '--out', path.join(own, 'out'), '--cache-dir', path.join(own, 'cache')]);
      assert.equal(r.code, 0, r.stderr);
      const graphs = fs.readdirSync(path.join(own, 'cache'), { recursive: true, encoding: 'utf8' }).filter((f) => /graph-[0-9a-f]+\.onnx$/.test(f));
      assert.equal(graphs.length, 1, `run ${args[0]} built ${graphs.join(', ')}`);
    }
  });

  it('formats: one row per (prompt, α), classification table printed', async () => {
    const out = path.join(root, 'formats');
    const r = runCli(['run', 'formats', '--model', model, '--topics', topics, '--max-new-tokens', '4', '--windows', '2', '--alpha', '0.5', '1', '--k', '3', '--out', out, '--cache-dir', cache]);
    assert.equal(r.code, 0, r.stderr);
    const data = await readResults(out);
    assert.equal(data.rows.length, 30 * 2);
    assert.deepEqual([...new Set(data.rows.map((x) => x.metric))].sort(), ['renyi:0.5', 'shannon']);
    assert.deepEqual([...new Set(data.rows.map((x) => x.labels.format))].sort(), ['list', 'poem', 'story']);
    assert.deepEqual([...new Set(data.rows.map((x) => x.labels.format_prompt))].sort(), ['Write a list about', 'Write a poem about', 'Write a story about']);
    assert.match(r.stdout, /accuracy/i);
    assert.ok(pngs(out).length >= 2);
    // classify reads the run's windows from the manifest: 2 windows × 3 layers of features
    const c = runCli(['classify', out, '--alpha', '1', '--k', '3', '--json']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /"nFeatures": 6/);
  });

  it('families: profiles of two models of different depth, t-SNE stored, figures written', async () => {
    const other = writeTinyLlama(path.join(root, 'tiny-llama-deep'), { layers: 5, seed: 8 });
    const out = path.join(root, 'families');
    const r = runCli(['run', 'families', '--models', model, other, '--samples', '6', '--max-new-tokens', '4', '--out', out, '--cache-dir', cache, '--perplexity', '3']);
    assert.equal(r.code, 0, r.stderr);
    const data = await readResults(out);
    assert.equal(data.rows.length, 12);
    assert.deepEqual([...new Set(data.rows.map((x) => x.n_layers))].sort(), [3, 5]);
    for (const x of data.rows) assert.deepEqual(x.values.length, 4 * x.n_layers);
    const tsne = JSON.parse(fs.readFileSync(path.join(out, 'tsne.json'), 'utf8'));
    assert.equal(tsne.points.length, 12);
    assert.ok(tsne.points.every((p: { x: number; y: number }) => Number.isFinite(p.x) && Number.isFinite(p.y)));
    assert.ok(pngs(out).includes('tsne.png'));
    assert.ok(pngs(out).some((f) => f.startsWith('depth-by-family')));
  });

  it('refuses to resume into a folder written with other options', () => {
    const out = path.join(root, 'ts');
    const r = runCli(['run', 'tinystories', '--model', model, '--dataset', stories, '--n-stories', '5', '--max-new-tokens', '3', '--out', out, '--cache-dir', cache]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /other options.*--max-new-tokens: 2 on disk vs 3 now/);
  });

  it('kill test: SIGKILL after some shards, rerun → every sample once, equal to an uninterrupted run', async () => {
    const args = (out: string): string[] => ['run', 'tinystories', '--model', model, '--dataset', stories, '--n-stories', '6', '--max-new-tokens', '3', '--temperature', '1', '--seed', '5', '--out', out, '--cache-dir', cache, '--update-steps', '4', '--batch-size', '4', '--no-figures'];
    const full = path.join(root, 'kill-full');
    assert.equal(runCli(args(full)).code, 0);
    const killed = path.join(root, 'kill-resumed');
    const child = spawn(process.execPath, [CLI, ...args(killed)], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        try {
          if (fs.readdirSync(killed).filter((f) => /^part-.*\.parquet$/.test(f)).length >= 3) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve();
          }
        } catch {
          // not written yet
        }
        if (Date.now() - started > 60_000) {
          clearInterval(poll);
          reject(new Error('the run wrote no shards within 60 s'));
        }
      }, 20);
    });
    await new Promise((r) => child.on('exit', r));
    const partial = await readResults(killed);
    assert.ok(partial.rows.length >= 12 && partial.rows.length < 144, `killed mid-run: ${partial.rows.length} rows`);
    const again = runCli(args(killed));
    assert.equal(again.code, 0, again.stderr);
    const a = await readResults(full);
    const b = await readResults(killed);
    const key = (x: { sample_id: string }): string => x.sample_id;
    const ids = b.rows.map(key);
    assert.equal(ids.length, new Set(ids).size, 'every sample exactly once');
    assert.equal(ids.length, 144);
    const byId = new Map(a.rows.map((x) => [key(x), x]));
    for (const x of b.rows) {
      const y = byId.get(key(x))!;
      assert.equal(x.completion, y.completion, x.sample_id);
      assert.deepEqual(Array.from(x.values), Array.from(y.values), x.sample_id);
      assert.deepEqual(x.labels, y.labels);
    }
  });

  it('plot redraws a dataset\'s figures and a one-sample heatmap', () => {
    const out = path.join(root, 'ts');
    const r = runCli(['plot', out, '--sample', 'story0:counting_prompt_1_base']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /sample-story0_counting_prompt_1_base-shannon\.png/);
  });
});
