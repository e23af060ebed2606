/**
 * Wrong numbers with exit 0 (hardening): configs and checkpoints that do not fit together, integer
 * weights, NaN weights, factors that overflow, tokenizers of other models, metric aliases. Each case
 * printed plausible numbers (or NaN, or ONNX Runtime's raw text, or ran out of memory) before.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCheckpoint } from '../../src/models/checkpoint.js';
import { openModel } from '../../src/models/load.js';
import { writeSafetensors, type TensorToWrite } from '../../src/models/safetensors-write.js';
import { UserError } from '../../src/util/errors.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

let root: string;
let base: string;
const cache = (): string => path.join(root, 'cache');
before(() => {
  root = tempDir('el-validate-');
  base = writeTinyLlama(path.join(root, 'base'), { layers: 2, seed: 3 });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A copy of the tiny model with config keys changed and (optionally) its tensors rewritten. */
function variant(config: Record<string, unknown>, tensors?: (t: Record<string, TensorToWrite>) => void): string {
  const dir = path.join(root, `v${n++}`);
  fs.cpSync(base, dir, { recursive: true });
  const cfgFile = path.join(dir, 'config.json');
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), ...config }));
  if (tensors) {
    const ckpt = openCheckpoint(base);
    const all: Record<string, TensorToWrite> = {};
    for (const [name, info] of ckpt.tensors) all[name] = { dtype: 'F32', shape: info.shape, data: ckpt.readFloat32(name) };
    tensors(all);
    writeSafetensors(path.join(dir, 'model.safetensors'), all);
  }
  return dir;
}

function refuses(dir: string, ...parts: (string | RegExp)[]): void {
  assert.throws(
    () => openModel(dir),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `a UserError, got ${String(e)}`);
      for (const p of parts) assert.ok(typeof p === 'string' ? e.message.includes(p) : p.test(e.message), `${e.message} should mention ${p}`);
      return true;
    },
  );
}

describe('config against checkpoint', () => {
  it('a layer count other than the blocks present is refused before anything is built (1, 3, 1e9, 0, −2)', () => {
    refuses(variant({ num_hidden_layers: 1 }), "'num_hidden_layers' is 1", 'hold 2 decoder blocks');
    refuses(variant({ num_hidden_layers: 3 }), "'num_hidden_layers' is 3");
    const t0 = performance.now();
    refuses(variant({ num_hidden_layers: 1e9 }), "'num_hidden_layers' is 1000000000");
    assert.ok(performance.now() - t0 < 2000, 'refused at once, not after building a billion layers');
    refuses(variant({ num_hidden_layers: 0 }), "'num_hidden_layers' is 0", 'positive whole number');
    refuses(variant({ num_hidden_layers: -2 }), "'num_hidden_layers' is -2");
  });

  it('non-positive or non-finite epsilons, rotary bases and sizes are refused, naming the setting', () => {
    refuses(variant({ rms_norm_eps: -1e-6 }), 'epsilon is -0.000001');
    refuses(variant({ rms_norm_eps: 0 }), 'epsilon is 0');
    refuses(variant({ rope_theta: 0 }), 'rope_theta');
    refuses(variant({ rope_theta: -10000 }), 'rope_theta');
    refuses(variant({ max_position_embeddings: 0 }), 'max_position_embeddings');
    refuses(variant({ sliding_window: -4, model_type: 'mistral', architectures: ['MistralForCausalLM'] }), 'sliding window of -4');
  });

  it('integer weights are refused, naming the tensor, its dtype and the quantisation method', () => {
    const q = (t: Record<string, TensorToWrite>): void => {
      const w = t['model.layers.0.self_attn.q_proj.weight'];
      t['model.layers.0.self_attn.q_proj.weight'] = { dtype: 'I8', shape: w.shape, data: Int8Array.from(w.data as Float32Array, (v) => Math.round(v * 100)) };
    };
    refuses(variant({ quantization_config: { quant_method: 'bitsandbytes', load_in_8bit: true } }, q), 'model.layers.0.self_attn.q_proj.weight', 'I8', '"bitsandbytes"');
    refuses(variant({}, q), 'model.layers.0.self_attn.q_proj.weight', 'I8', 'quantised checkpoint?');
  });
});

describe('entropylens profile on non-finite numbers', () => {
  it('a NaN weight: a warning naming the prompt, metric, step and layer, exit 1 unless --allow-nan', () => {
    const dir = variant({}, (t) => {
      (t['model.layers.1.post_attention_layernorm.weight'].data as Float32Array)[3] = NaN;
    });
    const args = ['profile', dir, '--prompt', 'Once upon a time', '--max-new-tokens', '2', '--cache-dir', cache(), '--json'];
    const r = runCli(args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /warning: \d+ profile values of 1 prompt are NaN or Inf: prompt 1 \(shannon = NaN at step 0, layer 1/);
    assert.match(r.stderr, /--allow-nan/);
    assert.equal(JSON.parse(r.stdout).results[0].metrics.shannon[0][1], null, 'the output still comes, NaN as null');
    const ok = runCli([...args, '--allow-nan']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /NaN or Inf/);
  });

  it('--scale-block with a factor that overflows float32 is refused', () => {
    const r = runCli(['profile', base, '--prompt', 'Once', '--scale-block', '1:1e39', '--cache-dir', cache()]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--scale-block 1:1e\+39: the factor must be a finite number/);
  });
});

describe('metric names', () => {
  it('--metrics shannon,renyi:1 keeps both names (renyi:1 is Shannon)', () => {
    const r = runCli(['profile', base, '--prompt', 'Once', '--max-new-tokens', '2', '--metrics', 'shannon,renyi:1,entropy', '--json', '--cache-dir', cache()]);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout).results[0].metrics;
    assert.deepEqual(Object.keys(m).sort(), ['entropy', 'renyi:1', 'shannon']);
    assert.deepEqual(m['renyi:1'], m.shannon);
  });
});
