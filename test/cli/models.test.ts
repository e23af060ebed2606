/** `entropylens models`: the real binary, human and JSON views. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { supportedModelTypes } from '../../src/models/registry.js';
import type { ModelsListing } from '../../src/cli/commands/models.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

it('models --json lists every supported model_type with classes, features and checkpoints', () => {
  const r = run('models', '--json');
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as ModelsListing;
  const listed = m.architectures.flatMap((a) => a.modelTypes).sort();
  assert.deepEqual(listed, supportedModelTypes());
  for (const t of ['gpt2', 'gpt_neox', 'llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3_text', 'phi', 'phi3', 'opt', 'bloom', 'gpt_neo', 'stablelm', 'falcon']) {
    assert.ok(listed.includes(t), `model_type ${t} missing`);
  }
  for (const a of m.architectures) {
    assert.ok(a.hfClasses.length > 0 && a.hfClasses.every((c) => /^[A-Z]\w+(ForCausalLM|LMHeadModel|ForConditionalGeneration)/.test(c)), `${a.modelTypes[0]}: HF classes ${a.hfClasses}`);
    assert.ok(a.features.length > 0, `${a.modelTypes[0]}: features`);
    assert.ok(a.checkpoints.length > 0, `${a.modelTypes[0]}: no known checkpoint`);
    for (const c of a.checkpoints) {
      assert.match(c.hubId, /^[\w.-]+\/[\w.-]+$/, c.hubId);
      for (const k of ['layers', 'dModel', 'heads', 'vocab'] as const) assert.ok(Number.isInteger(c[k]) && c[k] > 0, `${c.hubId}.${k}`);
      if (c.kvHeads !== undefined) assert.equal(c.heads % c.kvHeads, 0, `${c.hubId}: heads ${c.heads} not a multiple of kv heads ${c.kvHeads}`);
      assert.match(c.params, /^\d+(\.\d+)?[MB]$/, `${c.hubId}.params`);
    }
  }
});

it('models --json knows the paper\'s clustering models with their depths and widths', () => {
  const m = JSON.parse(run('models', '--json').stdout) as ModelsListing;
  const all = new Map(m.architectures.flatMap((a) => a.checkpoints.map((c) => [c.hubId, c] as const)));
  const expect: [string, number, number][] = [
    ['openai-community/gpt2', 12, 768],
    ['openai-community/gpt2-xl', 48, 1600],
    ['meta-llama/Llama-3.2-1B-Instruct', 16, 2048],
    ['meta-llama/Meta-Llama-3-8B-Instruct', 32, 4096],
    ['google/gemma-2-2b-it', 26, 2304],
    ['google/gemma-2-9b-it', 42, 3584],
    ['Qwen/Qwen3-1.7B', 28, 2048],
    ['Qwen/Qwen3-8B', 36, 4096],
  ];
  for (const [id, layers, d] of expect) {
    const c = all.get(id);
    assert.ok(c, `${id} missing`);
    assert.equal(c.layers, layers, `${id} layers`);
    assert.equal(c.dModel, d, `${id} d_model`);
  }
});

it('models prints a table per family', () => {
  const r = run('models');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^gemma2 {2}→ {2}Gemma2ForCausalLM$/m);
  assert.match(r.stdout, /hub id\s+layers\s+d_model\s+heads\s+kv\s+vocab\s+params/);
  assert.match(r.stdout, /google\/gemma-2-2b-it\s+26\s+2304\s+8\s+4\s+256000\s+2\.6B/);
  assert.match(r.stdout, /falcon, RefinedWebModel, RefinedWeb {2}→ {2}FalconForCausalLM/);
});
