import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { writeRawSafetensors, tempDir } from '../helpers/safetensors-writer.js';
import { golden, PARITY_DIR } from '../helpers/fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';
import { TextTokenizer } from '../../src/tokenizer/index.js';
import { assetPath } from '../../src/util/package.js';

const cache = tempDir('el-cli-cache-');
after(() => fs.rmSync(cache, { recursive: true, force: true }));
const GPT2 = path.join(PARITY_DIR, 'gpt2');
/** The error-path tests' own model: a tiny Llama with the demo tokenizer and a 64-token context. */
const TINY = writeTinyLlama(path.join(cache, 'tiny-model'), { layers: 2, seed: 4, context: 64 });
const TINY_VOCAB = JSON.parse(fs.readFileSync(path.join(TINY, 'config.json'), 'utf8')).vocab_size as number;

/** One line on stderr, non-zero exit, no stack trace, mentioning every fragment. */
function assertCleanError(r: { code: number; stderr: string; stdout: string }, ...fragments: string[]): void {
  assert.notEqual(r.code, 0, `expected failure, got exit 0; stdout: ${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^entropylens: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  for (const f of fragments) assert.ok(lines[0].includes(f), `error should mention '${f}': ${lines[0]}`);
}

/** A copy of the model folder `src` (default: the tiny model) whose model.safetensors is replaced by `write(file)`. */
function brokenModel(write: (file: string) => void, config?: Record<string, unknown>, src = TINY): string {
  const dir = tempDir('el-broken-');
  const cfg = JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, ...config }));
  write(path.join(dir, 'model.safetensors'));
  return dir;
}

describe('entropylens profile', () => {
  it('--json follows the documented schema and equals the Hugging Face golden values', () => {
    const g = golden('gpt2');
    const args = ['profile', GPT2, '--cache-dir', cache, '--max-new-tokens', '6', '--metrics', 'shannon,renyi:0.5', '--json', '--top-k', '3', '--windows', '2'];
    for (const p of g.prompts) args.push('--input-ids', p.input_ids.join(','));
    const r = runCli(args);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc).sort(), ['entropylens', 'layers', 'memory', 'model', 'options', 'results', 'timing']);
    assert.deepEqual(doc.layers, ['0', '1', '2']);
    assert.equal(doc.options.positions, 'last');
    assert.match(doc.entropylens.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(doc.options.metrics, ['shannon', 'renyi:0.5']);
    assert.equal(doc.options.max_new_tokens, 6);
    assert.equal(doc.options.top_k, 3);
    assert.ok(Number.isInteger(doc.memory.peak_rss_mb) && doc.memory.peak_rss_mb > 30, `peak RSS ${doc.memory.peak_rss_mb} MB`);
    assert.deepEqual(doc.model, { path: GPT2, model_type: 'gpt2', n_layers: 3, d_model: 64, vocab_size: 320 });
    assert.equal(typeof doc.timing.load_seconds, 'number');
    assert.equal(typeof doc.timing.generate_seconds, 'number');
    assert.equal(doc.results.length, 2);
    doc.results.forEach((res: Record<string, unknown> & { metrics: Record<string, number[][]>; windows: Record<string, number[][]>; topk: { ids: number[][][]; probs: number[][][] } }, i: number) => {
      const want = g.prompts[i];
      assert.equal(res.prompt, null);
      assert.deepEqual(res.input_ids, want.input_ids);
      assert.deepEqual(res.generated_ids, want.generated_ids);
      assert.equal(res.completion, null, 'no tokenizer in the fixture, so no text');
      assert.deepEqual(res.argmax, want.lens_argmax);
      for (let t = 0; t < 6; t++) {
        for (let l = 0; l < 3; l++) {
          assert.ok(Math.abs(res.metrics.shannon[t][l] - want.entropy[t][l]) < 1e-4);
          assert.ok(Math.abs(res.metrics['renyi:0.5'][t][l] - want.renyi['0.5'][t][l]) < 1e-4);
        }
      }
      // windows: 2 × layers, each the mean of 3 steps, computed here independently from the golden steps
      assert.equal(res.windows.shannon.length, 2);
      for (let w = 0; w < 2; w++) {
        for (let l = 0; l < 3; l++) {
          const mean = (want.entropy[3 * w][l] + want.entropy[3 * w + 1][l] + want.entropy[3 * w + 2][l]) / 3;
          assert.ok(Math.abs(res.windows.shannon[w][l] - mean) < 1e-4);
        }
      }
      assert.equal(res.topk.ids.length, 6);
      assert.equal(res.topk.ids[0].length, 3);
      assert.deepEqual(res.topk.ids.map((s) => s[2]), want.final_top5_ids.map((ids) => ids.slice(0, 3)));
    });
  });

  it('prints the decoded-layers view without --json', () => {
    const r = runCli(['profile', GPT2, '--cache-dir', cache, '--input-ids', '1,2,3', '--max-new-tokens', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /prompt 1: ids \[1, 2, 3\] \(3 tokens\)/);
    assert.match(r.stdout, /step 0 → #\d+/);
    assert.match(r.stdout, /step 1 → #\d+/);
    assert.match(r.stdout, /layer\s+shannon\s+lens top-1/);
    assert.equal((r.stdout.match(/^\s+[0-2]\s+\d+\.\d{4}\s+#\d+$/gm) ?? []).length, 6, r.stdout);
  });

  it('sampling is reproducible from the seed and differs across seeds', () => {
    const run = (seed: string): number[][] => {
      const r = runCli(['profile', GPT2, '--cache-dir', cache, '--input-ids', '5,6,7', '--input-ids', '9,10', '--temperature', '1.5', '--seed', seed, '--max-new-tokens', '12', '--json']);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).results.map((x: { generated_ids: number[] }) => x.generated_ids);
    };
    const a = run('7');
    assert.deepEqual(run('7'), a);
    assert.notDeepEqual(run('8'), a);
  });
});

describe('entropylens profile errors', () => {
  it('truncated safetensors file', () => {
    const dir = brokenModel((f) => {
      fs.copyFileSync(path.join(TINY, 'model.safetensors'), f);
      fs.truncateSync(f, fs.statSync(f).size - 1000);
    });
    assertCleanError(runCli(['profile', dir, '--input-ids', '1,2', '--cache-dir', cache]), 'model.safetensors', 'truncated');
  });

  it('header offsets outside the file', () => {
    const dir = brokenModel((f) => writeRawSafetensors(f, { 'model.embed_tokens.weight': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, 'model.norm.weight': { dtype: 'F32', shape: [4], data_offsets: [16, 32] } }, 16));
    assertCleanError(runCli(['profile', dir, '--input-ids', '1,2', '--cache-dir', cache]), 'model.safetensors');
  });

  it('overlapping tensors', () => {
    const dir = brokenModel((f) => writeRawSafetensors(f, { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, 24));
    assertCleanError(runCli(['profile', dir, '--input-ids', '1,2', '--cache-dir', cache]), 'model.safetensors', 'overlap');
  });

  it('unknown dtype', () => {
    const dir = brokenModel((f) => writeRawSafetensors(f, { a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4));
    assertCleanError(runCli(['profile', dir, '--input-ids', '1,2', '--cache-dir', cache]), 'F8_E4M3');
  });

  it('missing tensor', () => {
    const dir = brokenModel((f) => writeRawSafetensors(f, { 'model.embed_tokens.weight': { dtype: 'F32', shape: [TINY_VOCAB, 32], data_offsets: [0, TINY_VOCAB * 32 * 4] } }, TINY_VOCAB * 32 * 4));
    assertCleanError(runCli(['profile', dir, '--input-ids', '1,2', '--cache-dir', cache]), 'model.layers.0.');
  });

  it('unsupported model_type lists the supported ones', () => {
    const dir = brokenModel((f) => fs.copyFileSync(path.join(TINY, 'model.safetensors'), f), { model_type: 'mamba' });
    assertCleanError(runCli(['profile', dir, '--input-ids', '1,2', '--cache-dir', cache]), "'mamba'", 'gpt2', 'llama');
  });

  it('prompt longer than the context', () => {
    const ids = Array.from({ length: 70 }, (_, i) => i % 200).join(',');
    assertCleanError(runCli(['profile', TINY, '--input-ids', ids, '--cache-dir', cache]), 'prompt 1', '64');
  });

  it('empty prompt', () => {
    assertCleanError(runCli(['profile', TINY, '--prompt', '', '--cache-dir', cache]), 'prompt 1', 'empty');
  });

  it('--windows that does not divide --max-new-tokens', () => {
    assertCleanError(runCli(['profile', TINY, '--input-ids', '1,2', '--max-new-tokens', '5', '--windows', '2', '--cache-dir', cache]), '--windows', '--max-new-tokens');
  });

  it('--debug shows the stack', () => {
    const r = runCli(['profile', TINY, '--input-ids', '1,2', '--max-new-tokens', '5', '--windows', '2', '--cache-dir', cache, '--debug']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\n\s+at /);
  });

  it('a bad option value names the option', () => {
    assertCleanError(runCli(['profile', TINY, '--input-ids', '1,x', '--cache-dir', cache]), '--input-ids');
    assertCleanError(runCli(['profile', TINY, '--input-ids', '1,2', '--metrics', 'renyi:abc', '--cache-dir', cache]), 'renyi:abc');
  });
});

describe('entropylens profile --stop-at-eos', () => {
  it('stops a prompt at its end-of-sequence token (the step that produced it included), others go on', () => {
    const g = golden('gpt2');
    // EOS := a greedy token of prompt 0 (not its first) that prompt 1 never generates
    const g0 = g.prompts[0].generated_ids;
    const k = g0.findIndex((id, i) => i >= 1 && !g0.slice(0, i).includes(id) && !g.prompts[1].generated_ids.includes(id));
    assert.ok(k >= 1 && k < 5, 'the fixture has a usable token');
    const eos = g0[k];
    const dir = brokenModel((f) => fs.copyFileSync(path.join(GPT2, 'model.safetensors'), f), { eos_token_id: eos }, GPT2);
    const args = ['profile', dir, '--cache-dir', cache, '--max-new-tokens', '6', '--stop-at-eos', '--json'];
    for (const p of g.prompts) args.push('--input-ids', p.input_ids.join(','));
    const r = runCli(args);
    assert.equal(r.code, 0, r.stderr);
    const [a, b] = JSON.parse(r.stdout).results;
    assert.deepEqual(a.generated_ids, g0.slice(0, k + 1));
    assert.equal(a.metrics.shannon.length, k + 1);
    for (let t = 0; t <= k; t++) for (let l = 0; l < 3; l++) assert.ok(Math.abs(a.metrics.shannon[t][l] - g.prompts[0].entropy[t][l]) < 1e-4);
    assert.deepEqual(b.generated_ids, g.prompts[1].generated_ids);
    assert.equal(b.metrics.shannon.length, 6);
  });

  it('--stop-at-eos with --windows > 1 is refused', () => {
    assertCleanError(runCli(['profile', TINY, '--input-ids', '1,2', '--max-new-tokens', '4', '--windows', '2', '--stop-at-eos', '--cache-dir', cache]), '--stop-at-eos');
  });
});

describe('entropylens profile --device', () => {
  it('--device cuda without the CUDA provider is a one-line error that says what to do', () => {
    const r = runCli(['profile', TINY, '--input-ids', '1,2', '--device', 'cuda', '--cache-dir', cache]);
    if (r.code === 0) return; // a machine with the CUDA provider installed: nothing to check
    assertCleanError(r, 'CUDA', '--device cpu');
  });

  it('an unknown device names the option', () => {
    assertCleanError(runCli(['profile', TINY, '--input-ids', '1,2', '--device', 'tpu', '--cache-dir', cache]), '--device');
  });

  it('--anchors (text, tokenized before the model loads) equals --anchor-ids with those tokens', () => {
    const demo = assetPath('demo-model');
    const ids = [' the', ' a', ' and'].flatMap((w) => TextTokenizer.load(demo)!.uniqueIds(w));
    const base = ['profile', demo, '--cache-dir', cache, '--prompt', 'Once upon a time, a fox', '--max-new-tokens', '3', '--metrics', 'shannon,anchored:shannon', '--json'];
    const byText = runCli([...base, '--anchors', ' the, a, and']);
    const byIds = runCli([...base, '--anchor-ids', [...new Set(ids)].join(',')]);
    assert.equal(byText.code, 0, byText.stderr);
    assert.equal(byIds.code, 0, byIds.stderr);
    const a = JSON.parse(byText.stdout).results[0].metrics['anchored:shannon'];
    assert.deepEqual(a, JSON.parse(byIds.stdout).results[0].metrics['anchored:shannon']);
    assert.ok(a.flat().some((v: number) => v > 0), 'anchored entropies are not all zero');
  });
});
