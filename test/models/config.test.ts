import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../src/util/errors.js';
import { openCheckpoint } from '../../src/models/checkpoint.js';
import {
  cfgBool,
  cfgInt,
  cfgNumber,
  cfgOptionalBool,
  cfgOptionalInt,
  cfgOptionalNumber,
  cfgOptionalNumberList,
  cfgOptionalObject,
  cfgOptionalString,
  cfgString,
} from '../../src/models/config.js';
import { tempDir, writeSafetensors } from '../helpers/safetensors-writer.js';

function expectUserError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message should mention ${JSON.stringify(p)}: ${e.message}`);
    return true;
  });
}

const cfg: Record<string, unknown> = {
  n_embd: 64,
  layer_norm_epsilon: 1e-5,
  tie_word_embeddings: true,
  model_type: 'gpt2',
  sliding_window: null,
  eos_token_id: [1, 2],
  bos_token_id: 0,
  rope_scaling: { rope_type: 'llama3', factor: 8 },
  bad: 'x',
};

test('first present alias wins; defaults; null counts as absent', () => {
  assert.equal(cfgNumber(cfg, ['hidden_size', 'n_embd']), 64);
  assert.equal(cfgInt(cfg, 'n_embd'), 64);
  assert.equal(cfgNumber(cfg, 'layer_norm_epsilon'), 1e-5);
  assert.equal(cfgNumber(cfg, 'rms_norm_eps', 1e-6), 1e-6);
  assert.equal(cfgNumber(cfg, 'sliding_window', 7), 7);
  assert.equal(cfgOptionalNumber(cfg, 'sliding_window'), undefined);
  assert.equal(cfgOptionalInt(cfg, ['missing', 'n_embd']), 64);
  assert.equal(cfgBool(cfg, 'tie_word_embeddings'), true);
  assert.equal(cfgBool(cfg, 'parallel_residual', false), false);
  assert.equal(cfgOptionalBool(cfg, 'parallel_residual'), undefined);
  assert.equal(cfgString(cfg, 'model_type'), 'gpt2');
  assert.equal(cfgString(cfg, 'hidden_act', 'gelu'), 'gelu');
  assert.equal(cfgOptionalString(cfg, 'model_type'), 'gpt2');
  assert.deepEqual(cfgOptionalNumberList(cfg, 'eos_token_id'), [1, 2]);
  assert.deepEqual(cfgOptionalNumberList(cfg, 'bos_token_id'), [0]);
  const rs = cfgOptionalObject(cfg, 'rope_scaling');
  assert.equal(rs && cfgNumber(rs, 'factor'), 8);
  assert.equal(cfgOptionalObject(cfg, 'sliding_window'), undefined);
});

test('missing and mistyped keys are UserErrors naming the key', () => {
  expectUserError(() => cfgNumber(cfg, ['hidden_size', 'd_model']), "'hidden_size' or 'd_model'", 'missing', 'config.json');
  expectUserError(() => cfgNumber(cfg, 'bad'), "'bad'", 'number', '"x"');
  expectUserError(() => cfgInt(cfg, 'layer_norm_epsilon'), "'layer_norm_epsilon'", 'integer');
  expectUserError(() => cfgBool(cfg, 'n_embd'), "'n_embd'", 'boolean');
  expectUserError(() => cfgString(cfg, 'n_embd'), "'n_embd'", 'string');
  expectUserError(() => cfgOptionalNumber(cfg, 'bad'), "'bad'");
  expectUserError(() => cfgOptionalObject(cfg, 'bad'), "'bad'", 'object');
  expectUserError(() => cfgOptionalNumberList(cfg, 'bad'), "'bad'");
});

test('errors on a checkpoint config name its config.json path', (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', rope_scaling: { factor: 'big' } }));
  writeSafetensors(path.join(dir, 'model.safetensors'), { a: { dtype: 'F32', shape: [1], data: [1] } });
  const ckpt = openCheckpoint(dir);
  expectUserError(() => cfgInt(ckpt.config, 'num_hidden_layers'), path.join(dir, 'config.json'), "'num_hidden_layers'");
  const rs = cfgOptionalObject(ckpt.config, 'rope_scaling')!;
  expectUserError(() => cfgNumber(rs, 'factor'), path.join(dir, 'config.json'), 'rope_scaling', "'factor'");
  // The attached path is not enumerable: the config still serialises as the file did.
  assert.deepEqual(JSON.parse(JSON.stringify(ckpt.config)), { model_type: 'llama', rope_scaling: { factor: 'big' } });
});
