/**
 * The lens features of `entropylens profile` through the CLI: --positions, --target / --target-ids,
 * rank:final, --lens-embeddings and --add-vector (files checked), in --json, the human view and
 * --npz. The numbers themselves are checked against float64 references and Hugging Face goldens in
 * test/models and test/lens; here each option's plumbing and its refusals.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { npyBytes } from '../../src/store/npz.js';
import { python } from '../helpers/python.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir, writeSafetensors } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

const root = tempDir('el-plens-');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const D = 32;
const LAYERS = 3;
const model = writeTinyLlama(path.join(root, 'm'), { layers: LAYERS, hidden: D, seed: 5 });
const cache = path.join(root, 'cache');
const base = ['profile', model, '--cache-dir', cache, '--json'];

interface Json {
  options: Record<string, unknown>;
  layers: string[];
  results: {
    input_ids: number[];
    generated_ids: number[];
    metrics: Record<string, number[][]>;
    argmax: number[][];
    target?: { id: number; token: string; prob: number[][]; logprob: number[][]; rank: number[][] };
    positions?: { ids: number[]; tokens: string[]; metrics: Record<string, number[][]>; argmax: number[][]; argmax_tokens: string[][]; next_rank: number[][]; next_prob: number[][]; next_logprob: number[][] };
  }[];
}

function json(args: string[]): Json {
  const r = runCli([...base, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Json;
}

function refused(args: string[], pattern: RegExp): void {
  const r = runCli([...base, ...args]);
  assert.notEqual(r.code, 0, `expected a refusal: ${r.stdout.slice(0, 200)}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
}

const close = (a: number[][], b: number[][], tol: number): void => a.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) <= tol, `[${i}][${j}] ${v} vs ${b[i][j]}`)));

describe('profile --positions', () => {
  it('prompt: every position × layer, the next token\'s rank and probability, nothing generated; the last position is step 0 of a generating run', () => {
    const prompt = 'Once upon a time there was a fox';
    const j = json(['--prompt', prompt, '--positions', 'prompt', '--metrics', 'shannon,rank:final']);
    const r = j.results[0];
    const p = r.positions!;
    const P = r.input_ids.length;
    assert.deepEqual(p.ids, r.input_ids);
    assert.equal(p.tokens.length, P);
    assert.deepEqual(r.generated_ids, []);
    assert.equal(j.options.positions, 'prompt');
    assert.equal(p.metrics.shannon.length, P);
    assert.equal(p.argmax_tokens.length, P);
    assert.ok(p.metrics.shannon.every((row) => row.length === LAYERS));
    assert.equal(p.next_rank.length, P - 1);
    for (let i = 0; i < P - 1; i++) {
      for (let l = 0; l < LAYERS; l++) {
        assert.ok(Number.isInteger(p.next_rank[i][l]) && p.next_rank[i][l] >= 0);
        assert.ok(Math.abs(p.next_prob[i][l] - Math.exp(p.next_logprob[i][l])) < 1e-12);
        // rank 0 exactly where the lens' top token is the next one
        assert.equal(p.next_rank[i][l] === 0, p.argmax[i][l] === p.ids[i + 1], `position ${i} layer ${l}`);
      }
    }
    // rank:final at the last layer is the top token's own rank
    assert.ok(p.metrics['rank:final'].every((row) => row[LAYERS - 1] === 0));
    const step = json(['--prompt', prompt, '--max-new-tokens', '1', '--metrics', 'shannon']).results[0];
    close([p.metrics.shannon[P - 1]], step.metrics.shannon, 1e-5);
    assert.deepEqual(p.argmax[P - 1], step.argmax[0]);
  });

  it('all: the prompt positions and the generated steps; the human view shows the table', () => {
    const j = json(['--prompt', 'The cat sat', '--prompt', 'A much longer prompt about a dog', '--positions', 'all', '--max-new-tokens', '2', '--batch-size', '2']);
    for (const r of j.results) {
      assert.equal(r.generated_ids.length, 2);
      assert.equal(r.positions!.metrics.shannon.length, r.input_ids.length);
    }
    const human = runCli(['profile', model, '--cache-dir', cache, '--prompt', 'The cat sat', '--positions', 'prompt']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /prompt positions: shannon per layer, then the rank of the next token/);
    assert.doesNotMatch(human.stdout, /completion:/);
  });

  it('refuses what it cannot do, by option name', () => {
    refused(['--prompt', 'x', '--positions', 'middle'], /--positions 'middle': expected last, prompt or all/);
    refused(['--prompt', 'x', '--positions', 'prompt', '--out', path.join(root, 'o')], /--out stores the generated steps only/);
    refused(['--prompt', 'x', '--positions', 'prompt', '--windows', '1'], /--windows needs generated steps/);
    refused(['--prompt', 'x', '--max-new-tokens', '0'], /--max-new-tokens/);
  });

  it('--npz holds positions/* arrays that numpy reads (skipped without numpy)', (t) => {
    const py = python('numpy');
    if (!py) return t.skip('no Python with numpy (apt-get install python3-numpy)');
    const file = path.join(root, 'pos.npz');
    const j = json(['--prompt', 'The cat sat on the mat', '--prompt', 'A dog', '--positions', 'prompt', '--npz', file]);
    fs.writeFileSync(path.join(root, 'pos.json'), JSON.stringify(j));
    const run = spawnSync(py, ['-c', `
import json, sys, numpy as np
z = np.load(sys.argv[1]); j = json.load(open(sys.argv[2]))
for i, r in enumerate(j['results']):
    P = len(r['input_ids'])
    assert np.allclose(z['positions/shannon'][i, :P], np.array(r['positions']['metrics']['shannon']), atol=1e-6)
    assert (z['positions/next_rank'][i, :P - 1] == np.array(r['positions']['next_rank'])).all()
    assert np.isnan(z['positions/shannon'][i, P:]).all()
print('ok')
`, file, path.join(root, 'pos.json')], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /ok/);
  });
});

describe('profile --target', () => {
  it('a text target: probability, log-probability and rank per step and layer; rank 0 at the last layer iff it is the greedy token', () => {
    const j = json(['--prompt', 'Once upon a time', '--prompt', 'The fox', '--target', ' fox', '--max-new-tokens', '3', '--batch-size', '2']);
    const ids = new Set(j.results.map((r) => r.target!.id));
    assert.equal(ids.size, 1, 'one target for all prompts');
    for (const r of j.results) {
      const t = r.target!;
      assert.equal(t.rank.length, 3);
      t.prob.forEach((row, s) => row.forEach((v, l) => assert.ok(Math.abs(v - Math.exp(t.logprob[s][l])) < 1e-12 && v > 0 && v <= 1)));
      t.rank.forEach((row, s) => assert.equal(row[LAYERS - 1] === 0, r.generated_ids[s] === t.id, `step ${s}`));
    }
  });

  it('--target-ids: one per prompt, in order; a count that fits neither one nor every prompt is refused', () => {
    const j = json(['--prompt', 'a', '--prompt', 'b', '--target-ids', '5,9', '--max-new-tokens', '1']);
    assert.deepEqual(j.results.map((r) => r.target!.id), [5, 9]);
    // the greedy token of each prompt as its target has rank 0 at the last layer
    const greedy = j.results.map((r) => r.generated_ids[0]);
    const k = json(['--prompt', 'a', '--prompt', 'b', '--target-ids', greedy.join(','), '--max-new-tokens', '1']);
    assert.deepEqual(k.results.map((r) => r.target!.rank[0][LAYERS - 1]), [0, 0]);
    refused(['--prompt', 'a', '--prompt', 'b', '--prompt', 'c', '--target-ids', '5,9'], /2 targets for 3 prompts/);
    refused(['--prompt', 'a', '--target-ids', '99999999'], /target id 99999999 is outside the vocabulary/);
    refused(['--prompt', 'a', '--target', 'x', '--target-ids', '3'], /not both/);
  });

  it('a JSONL prompts file gives each prompt its own "target" (text or id); a line without one is refused', () => {
    const file = path.join(root, 'targets.jsonl');
    fs.writeFileSync(file, [JSON.stringify({ prompt: 'a', target: 7 }), JSON.stringify({ text: 'b', target: 11 })].join('\n') + '\n');
    const j = json(['--prompts-file', file, '--max-new-tokens', '1']);
    assert.deepEqual(j.results.map((r) => r.target!.id), [7, 11]);
    refused(['--prompts-file', file, '--target-ids', '3'], /gives targets; leave out --target/);
    const partial = path.join(root, 'targets-partial.jsonl');
    fs.writeFileSync(partial, [JSON.stringify({ prompt: 'a', target: 7 }), JSON.stringify({ prompt: 'b' })].join('\n') + '\n');
    refused(['--prompts-file', partial, '--max-new-tokens', '1'], /prompt 2 has no target/);
  });

  it('rank:final needs greedy decoding', () => {
    refused(['--prompt', 'a', '--metrics', 'rank:final', '--temperature', '0.7'], /rank:final .* greedy decoding/);
  });
});

describe('profile --lens-embeddings', () => {
  it('adds the input of block 0 as a first layer "embed"; the block layers are unchanged', () => {
    const plain = json(['--prompt', 'Once upon a time', '--max-new-tokens', '2']);
    const withEmbed = json(['--prompt', 'Once upon a time', '--max-new-tokens', '2', '--lens-embeddings']);
    assert.deepEqual(withEmbed.layers, ['embed', '0', '1', '2']);
    assert.deepEqual(plain.layers, ['0', '1', '2']);
    const a = plain.results[0];
    const b = withEmbed.results[0];
    assert.deepEqual(b.generated_ids, a.generated_ids);
    close(b.metrics.shannon.map((row) => row.slice(1)), a.metrics.shannon, 1e-5);
    assert.ok(b.metrics.shannon.every((row) => row.length === LAYERS + 1));
  });
});

describe('profile --add-vector', () => {
  const write = (name: string, bytes: Uint8Array): string => {
    const f = path.join(root, name);
    fs.writeFileSync(f, bytes);
    return f;
  };
  const zero = write('zero.npy', npyBytes({ dtype: 'f4', shape: [D], data: new Float32Array(D) }));
  const ramp = Float64Array.from({ length: D }, (_, i) => (i - D / 2) / 7);

  it('a zero vector gives exactly the output without it; a non-zero one changes it and is recorded', () => {
    const args = ['--prompt', 'Once upon a time', '--prompt', 'A dog', '--max-new-tokens', '3', '--metrics', 'shannon,kl:final'];
    const plain = json(args);
    const zeroed = json([...args, '--add-vector', `1:${zero}:5`]);
    assert.deepEqual(zeroed.results, plain.results);
    const f8 = write('ramp.npy', npyBytes({ dtype: 'f8', shape: [D], data: ramp }));
    const steered = json([...args, '--add-vector', `1:${f8}:3`]);
    assert.notDeepEqual(steered.results[0].metrics.shannon, plain.results[0].metrics.shannon);
    const iv = (steered.options.interventions as Record<string, unknown>[])[0];
    assert.deepEqual({ ...iv, norm: undefined }, { kind: 'add', layer: 1, file: f8, scale: 3, d: D, norm: undefined });
    assert.ok(Math.abs((iv.norm as number) - Math.hypot(...ramp)) < 1e-9);
    // the same vector as float32 safetensors (one tensor) and as a [1, D] array: the same numbers
    const st = path.join(root, 'ramp.safetensors');
    writeSafetensors(st, { steer: { dtype: 'F64', shape: [D], data: ramp } });
    assert.deepEqual(json([...args, '--add-vector', `1:${st}:3`]).results, steered.results);
    const row = write('row.npy', npyBytes({ dtype: 'f8', shape: [1, D], data: ramp }));
    assert.deepEqual(json([...args, '--add-vector', `1:${row}:3`]).results, steered.results);
  });

  it('refuses a bad file, naming it and saying what is wrong', () => {
    const short = write('short.npy', npyBytes({ dtype: 'f4', shape: [D - 1], data: new Float32Array(D - 1) }));
    refused(['--prompt', 'a', '--add-vector', `1:${short}`], new RegExp(`short.npy holds ${D - 1} values, but the model's residual stream has d_model = ${D}`));
    const nan = new Float32Array(D);
    nan[3] = NaN;
    refused(['--prompt', 'a', '--add-vector', `1:${write('nan.npy', npyBytes({ dtype: 'f4', shape: [D], data: nan }))}`], /non-finite value \(NaN\) at index 3/);
    refused(['--prompt', 'a', '--add-vector', `1:${write('int.npy', npyBytes({ dtype: 'i4', shape: [D], data: new Int32Array(D) }))}`], /holds <i4; steering vectors are float32 or float64/);
    const big = Buffer.from(npyBytes({ dtype: 'f4', shape: [D], data: new Float32Array(D) }));
    big.write('>f4', big.indexOf('<f4'), 'latin1');
    refused(['--prompt', 'a', '--add-vector', `1:${write('big.npy', big)}`], /holds >f4/);
    refused(['--prompt', 'a', '--add-vector', `1:${write('matrix.npy', npyBytes({ dtype: 'f4', shape: [2, D], data: new Float32Array(2 * D) }))}`], /has shape \[2, 32\]; a steering vector has one axis/);
    const two = path.join(root, 'two.safetensors');
    writeSafetensors(two, { a: { dtype: 'F32', shape: [D], data: new Float32Array(D) }, b: { dtype: 'F32', shape: [D], data: new Float32Array(D) } });
    refused(['--prompt', 'a', '--add-vector', `1:${two}`], /holds 2 tensors \(a, b\); a steering vector file holds exactly one/);
    refused(['--prompt', 'a', '--add-vector', `1:${write('junk.bin', new Uint8Array([1, 2, 3]))}`], /junk.bin is neither a .npy file nor a readable safetensors file/);
    refused(['--prompt', 'a', '--add-vector', `1:${path.join(root, 'missing.npy')}`], /missing.npy/);
    refused(['--prompt', 'a', '--add-vector', `9:${zero}`], /intervention on block 9: the model has blocks 0..2/);
    refused(['--prompt', 'a', '--add-vector', 'nonsense'], /expected BLOCK:FILE or BLOCK:FILE:SCALE/);
  });
});
