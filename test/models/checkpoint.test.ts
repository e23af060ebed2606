import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../src/util/errors.js';
import { openCheckpoint, TensorResolver } from '../../src/models/checkpoint.js';
import { tempDir, writeRawSafetensors, writeSafetensors } from '../helpers/safetensors-writer.js';
import { PARITY_DIR, parityCases } from '../helpers/fixtures.js';

const fixturesDir = PARITY_DIR;
const index = { cases: parityCases() };

function expectUserError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message should mention ${JSON.stringify(p)}: ${e.message}`);
    return true;
  });
}

/** Independent reading of a safetensors file: the header by hand, values decoded from raw bytes in float64. */
function rawTensors(file: string): Map<string, { dtype: string; shape: number[]; values: number[] }> {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { dtype: string; shape: number[]; values: number[] }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const start = 8 + n + e.data_offsets[0];
    const count = e.shape.reduce((p, d) => p * d, 1);
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      if (e.dtype === 'F32') values.push(buf.readFloatLE(start + 4 * i));
      else {
        const h = buf.readUInt16LE(start + 2 * i);
        const s = h & 0x8000 ? -1 : 1;
        if (e.dtype === 'BF16') {
          const ex = (h >> 7) & 0xff;
          const m = h & 0x7f;
          values.push(ex === 255 ? (m ? NaN : s * Infinity) : ex === 0 ? s * 2 ** -126 * (m / 128) : s * 2 ** (ex - 127) * (1 + m / 128));
        } else if (e.dtype === 'F16') {
          const ex = (h >> 10) & 0x1f;
          const m = h & 0x3ff;
          values.push(ex === 31 ? (m ? NaN : s * Infinity) : ex === 0 ? s * m * 2 ** -24 : s * 2 ** (ex - 15) * (1 + m / 1024));
        } else throw new Error(`fixture dtype ${e.dtype} not expected`);
      }
    }
    out.set(name, { dtype: e.dtype, shape: e.shape, values });
  }
  return out;
}

const DTYPE_OF: Record<string, string> = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' };

test('every hf-parity fixture opens and reads exactly', async (t) => {
  assert.ok(index.cases.length >= 20);
  for (const c of index.cases) {
    await t.test(c.case, () => {
      const dir = path.join(fixturesDir, c.case);
      const ckpt = openCheckpoint(dir);
      assert.equal(ckpt.dir, dir);
      assert.equal(typeof ckpt.config.model_type, 'string');
      const files = Object.keys(c.files).filter((f) => f.endsWith('.safetensors'));
      assert.equal(files.length, c.sharded ? 2 : 1);
      const expected = new Map<string, { dtype: string; shape: number[]; values: number[]; file: string }>();
      for (const f of files) for (const [k, v] of rawTensors(path.join(dir, f))) expected.set(k, { ...v, file: path.join(dir, f) });
      assert.equal(ckpt.tensors.size, expected.size);
      assert.deepEqual([...ckpt.dtypes], [DTYPE_OF[c.weights_dtype]]);
      let bytes = 0;
      for (const [name, e] of expected) {
        const info = ckpt.tensors.get(name);
        assert.ok(info, `${c.case}: tensor ${name}`);
        assert.equal(info.file, e.file);
        assert.deepEqual(info.shape, e.shape);
        bytes += info.byteLength;
        const got = ckpt.readFloat32(name);
        assert.equal(got.length, e.values.length);
        for (let i = 0; i < got.length; i++) {
          if (!Object.is(got[i], e.values[i])) assert.fail(`${c.case} ${name}[${i}]: got ${got[i]}, expected ${e.values[i]}`);
        }
      }
      assert.equal(ckpt.totalBytes, bytes);
      assert.equal(ckpt.files[0], path.join(dir, 'config.json'));
      assert.ok(ckpt.files.slice(1).every((f) => f.endsWith('.safetensors') || f.endsWith('.index.json')));
    });
  }
});

test('sharded checkpoint: both shards, matching the weight_map', () => {
  const dir = path.join(fixturesDir, 'mistral_sliding_sharded');
  const ckpt = openCheckpoint(dir);
  const wm = (JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> }).weight_map;
  assert.deepEqual([...ckpt.tensors.keys()].sort(), Object.keys(wm).sort());
  for (const [name, shard] of Object.entries(wm)) assert.equal(ckpt.tensors.get(name)!.file, path.join(dir, shard));
  assert.equal(new Set([...ckpt.tensors.values()].map((x) => x.file)).size, 2);
});

test('TensorResolver tries prefixes in order', () => {
  const ckpt = openCheckpoint(path.join(fixturesDir, 'gpt2'));
  const r = new TensorResolver(ckpt, ['model.', 'transformer.', '']);
  assert.equal(r.resolve('wte.weight'), 'transformer.wte.weight');
  assert.deepEqual(r.get('wte.weight'), ckpt.readFloat32('transformer.wte.weight'));
  assert.equal(r.maybe('nope.weight'), undefined);
  assert.equal(r.resolve('nope.weight'), undefined);
  expectUserError(() => r.get('h.0.attn.q_proj.weight'), "'h.0.attn.q_proj.weight'", "'model.h.0.attn.q_proj.weight'", "'transformer.h.0.attn.q_proj.weight'", ckpt.dir);
  expectUserError(() => ckpt.readFloat32('lm_head.nope'), "'lm_head.nope'", ckpt.dir);
});

const CONFIG = JSON.stringify({ model_type: 'llama', hidden_size: 4 });

test('checkpoint errors name the path and say what to do', async (t) => {
  const root = tempDir();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  let k = 0;
  const mk = (files: Record<string, string> = {}): string => {
    const d = path.join(root, `c${k++}`);
    fs.mkdirSync(d);
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
    return d;
  };
  const w = (d: string, file: string, names: string[]) =>
    writeSafetensors(
      path.join(d, file),
      Object.fromEntries(names.map((n, i) => [n, { dtype: 'F32' as const, shape: [2], data: [i, -i] }])),
    );

  await t.test('missing folder and config.json', () => {
    expectUserError(() => openCheckpoint(path.join(root, 'absent')), path.join(root, 'absent'));
    const d = mk();
    w(d, 'model.safetensors', ['a']);
    expectUserError(() => openCheckpoint(d), path.join(d, 'config.json'), 'not found');
  });
  await t.test('invalid config.json', () => {
    const d = mk({ 'config.json': '{"model_type": ' });
    w(d, 'model.safetensors', ['a']);
    expectUserError(() => openCheckpoint(d), path.join(d, 'config.json'), 'not valid JSON');
    const d2 = mk({ 'config.json': '[1]' });
    expectUserError(() => openCheckpoint(d2), path.join(d2, 'config.json'), 'JSON object');
  });
  await t.test('no safetensors: pytorch_model.bin is not supported', () => {
    const d = mk({ 'config.json': CONFIG, 'pytorch_model.bin': 'x' });
    expectUserError(() => openCheckpoint(d), d, 'safetensors only', 'pytorch_model.bin', 'safe_serialization=True');
  });
  await t.test('index lists a missing shard', () => {
    const d = mk({
      'config.json': CONFIG,
      'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    });
    w(d, 'model-00001-of-00002.safetensors', ['a']);
    expectUserError(() => openCheckpoint(d), 'model.safetensors.index.json', path.join(d, 'model-00002-of-00002.safetensors'), 'does not exist');
  });
  await t.test('index maps a tensor its shard lacks, or to the wrong shard', () => {
    const d = mk({
      'config.json': CONFIG,
      'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 's1.safetensors', b: 's1.safetensors', c: 's2.safetensors' } }),
    });
    w(d, 's1.safetensors', ['a']);
    w(d, 's2.safetensors', ['c']);
    expectUserError(() => openCheckpoint(d), "'b'", 's1.safetensors', 'does not contain it');
    const d2 = mk({
      'config.json': CONFIG,
      'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 's1.safetensors', c: 's1.safetensors' } }),
    });
    w(d2, 's1.safetensors', ['a']);
    w(d2, 's2.safetensors', ['c']); // not listed in the index, so not read: c is then missing from s1
    expectUserError(() => openCheckpoint(d2), "'c'", 's1.safetensors');
    const d3 = mk({ 'config.json': CONFIG, 'model.safetensors.index.json': JSON.stringify({ weight_map: { a: '../x.safetensors' } }) });
    expectUserError(() => openCheckpoint(d3), 'invalid shard', "'a'");
  });
  await t.test('duplicate tensor names across loose files', () => {
    const d = mk({ 'config.json': CONFIG });
    w(d, 'part-a.safetensors', ['x', 'y']);
    w(d, 'part-b.safetensors', ['y']);
    expectUserError(() => openCheckpoint(d), "'y'", path.join(d, 'part-a.safetensors'), path.join(d, 'part-b.safetensors'));
  });
  await t.test('loose files load together; model.safetensors wins over strays', () => {
    const d = mk({ 'config.json': CONFIG });
    w(d, 'part-a.safetensors', ['x']);
    w(d, 'part-b.safetensors', ['y']);
    assert.deepEqual([...openCheckpoint(d).tensors.keys()].sort(), ['x', 'y']);
    w(d, 'model.safetensors', ['z']);
    assert.deepEqual([...openCheckpoint(d).tensors.keys()], ['z']);
  });
  await t.test('a corrupt shard is reported with its path', () => {
    const d = mk({ 'config.json': CONFIG });
    writeRawSafetensors(path.join(d, 'model.safetensors'), { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8);
    expectUserError(() => openCheckpoint(d), path.join(d, 'model.safetensors'), "'a'", 'truncated');
  });
  await t.test('a file truncated after opening fails on read, naming it', () => {
    const d = mk({ 'config.json': CONFIG });
    w(d, 'model.safetensors', ['a', 'b']);
    const ckpt = openCheckpoint(d);
    fs.truncateSync(path.join(d, 'model.safetensors'), fs.statSync(path.join(d, 'model.safetensors')).size - 4);
    expectUserError(() => ckpt.readFloat32('b'), path.join(d, 'model.safetensors'), 'truncated');
  });
});
