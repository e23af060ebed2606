/**
 * `entropylens inspect`: the real binary on every hf-parity fixture (checked against the fixture's
 * index.json, config.json and the safetensors headers read here), and its refusals.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { InspectReport } from '../../src/models/inspect.js';
import { writeSafetensors, type TensorToWrite } from '../helpers/safetensors-writer.js';
import { parityCases, PARITY_DIR } from '../helpers/fixtures.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

interface IndexCase {
  case: string;
  architecture: string;
  weights_dtype: string;
  tied_word_embeddings: boolean;
  num_layers: number;
  hidden_size: number;
  vocab_size: number;
}

/** Tensor count and data bytes of a folder's safetensors files, from their headers. */
function headerFacts(dir: string): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
    const buf = fs.readFileSync(path.join(dir, f));
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
    count += Object.keys(header).filter((k) => k !== '__metadata__').length;
    bytes += buf.length - 8 - n;
  }
  return { count, bytes };
}

const DTYPE: Record<string, string> = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' };
// Facts of the fixture table (README): how each case places positions.
const ALIBI = new Set(['bloom', 'falcon_rw_alibi']);
const LEARNED = new Set(['gpt2', 'gpt_neo_local_attn', 'opt']);

describe('inspect on every hf-parity fixture', () => {
  for (const c of parityCases() as unknown as IndexCase[]) {
    it(c.case, () => {
      const dir = path.join(PARITY_DIR, c.case);
      const r = run('inspect', dir, '--json');
      assert.equal(r.status, 0, r.stderr);
      const rep = JSON.parse(r.stdout) as InspectReport;
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(rep.modelType, c.architecture);
      assert.deepEqual(rep.hfArchitectures, cfg.architectures);
      assert.equal(rep.layers, c.num_layers);
      assert.equal(rep.dModel, c.hidden_size);
      assert.equal(rep.unembedRows, c.vocab_size);
      assert.equal(rep.tiedEmbeddings, c.tied_word_embeddings);
      assert.deepEqual(rep.dtypes, [DTYPE[c.weights_dtype]]);
      const facts = headerFacts(dir);
      assert.equal(rep.tensors.count, facts.count);
      assert.equal(rep.tensors.bytes, facts.bytes);
      assert.deepEqual(rep.tensors.unused, [], 'every tensor of a fixture is used');
      assert.equal(rep.tensors.used, facts.count);
      assert.equal(rep.positions, ALIBI.has(c.case) ? 'alibi' : LEARNED.has(c.case) ? 'learned' : 'rope');
      const heads = cfg.num_attention_heads ?? cfg.n_head ?? cfg.num_heads;
      assert.equal(rep.heads, heads);
      assert.equal(rep.finalSoftcap, (cfg.final_logit_softcapping as number | undefined) ?? null);
      assert.equal(rep.attnSoftcap, (cfg.attn_logit_softcapping as number | undefined) ?? null);
      const window = (cfg.sliding_window ?? cfg.window_size ?? null) as number | null;
      if (c.case === 'mistral_sliding_sharded') assert.deepEqual(rep.slidingWindow?.perLayer, Array(c.num_layers).fill(window));
      else if (c.case === 'gpt_neo_local_attn') assert.deepEqual(rep.slidingWindow?.perLayer, (cfg.attention_layers as string[]).map((t) => (t === 'local' ? window : null)));
      else if (c.case === 'gemma2_softcap_sliding') assert.deepEqual(rep.slidingWindow?.perLayer, [window, null, window, null]);
      else assert.equal(rep.slidingWindow, null);
      if (rep.rope) {
        const partial = (cfg.partial_rotary_factor ?? cfg.rotary_pct ?? 1) as number;
        assert.equal(rep.rope[0].rotaryDim, Math.floor(rep.headDim * partial));
      }
    });
  }

  it('prints a readable summary', () => {
    const r = run('inspect', path.join(PARITY_DIR, 'gemma2_softcap_sliding'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^model_type\s+gemma2 \(Gemma2ForCausalLM\)$/m);
    assert.match(r.stdout, /^sliding window\s+4 on layers 0, 2; 2 global$/m);
    assert.match(r.stdout, /^soft-caps\s+attention 4, final logits 15 \(the lens applies it too\)$/m);
    assert.match(r.stdout, /^embeddings\s+tied/m);
  });
});

describe('inspect refuses what it cannot read', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-inspect-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('an unsupported model_type: non-zero exit, one line naming it and the supported ones', () => {
    const dir = path.join(tmp, 'mamba');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'mamba', architectures: ['MambaForCausalLM'] }));
    writeSafetensors(path.join(dir, 'model.safetensors'), { 'backbone.embeddings.weight': { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] } });
    const r = run('inspect', dir);
    assert.notEqual(r.status, 0);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /model_type 'mamba' \(MambaForCausalLM\) is not supported/);
    assert.match(lines[0], /supported: .*gemma2.*falcon|supported: .*falcon.*gemma2/);
  });

  it('a checkpoint missing a tensor: non-zero exit naming the tensor', () => {
    const src = path.join(PARITY_DIR, 'phi3');
    const dir = path.join(tmp, 'phi3-broken');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(src, 'config.json'), path.join(dir, 'config.json'));
    const buf = fs.readFileSync(path.join(src, 'model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__' || name === 'model.layers.1.mlp.gate_up_proj.weight') continue;
      const bytes = buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
      tensors[name] = { dtype: 'F32', shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
    }
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    const r = run('inspect', dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /layers\.1\.mlp\.gate_up_proj\.weight/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('a folder that does not exist', () => {
    const r = run('inspect', path.join(tmp, 'nope'));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /does not exist/);
  });
});
