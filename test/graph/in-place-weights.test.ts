/**
 * Weights read in place (issue 16, "no second copy on disk"): a weight that is, byte for byte, a
 * checkpoint tensor (or a contiguous block of its rows) is indexed at its place in the checkpoint's
 * file instead of being copied into the cache. Checked on every parity fixture: each in-place entry
 * holds exactly the bytes the cache would have written (the weight in its stored layout and dtype),
 * no architecture puts a matrix in the cache (except StableLM's per-head q/k norms), and a checkpoint reached through symbolic
 * links (the Hugging Face cache's layout) in another folder tree than the cache, then moved, still
 * profiles to the same numbers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { exportWeights } from '../../src/graph/export.js';
import { HALF_MIN_VALUES } from '../../src/models/in-place.js';
import type { ExternalWeight } from '../../src/graph/external.js';
import type { ProfileResult } from '../../src/lens/model.js';
import { transpose2d } from '../../src/models/common.js';
import { inspectModel } from '../../src/models/inspect.js';
import { openModel } from '../../src/models/load.js';
import { supportedModelTypes } from '../../src/models/registry.js';
import { f32ToBf16Bits, f32ToF16Bits } from '../../src/models/safetensors-write.js';
import { golden, parityCases, PARITY_DIR } from '../helpers/fixtures.js';
import { rewriteAsHalf } from '../helpers/half-checkpoint.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { profileAll } from '../helpers/profile-all.js';

const root = tempDir('el-inplace-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** The bytes a weight would have in the cache, in the layout and dtype of its in-place entry. */
function expectedBytes(values: Float32Array, e: ExternalWeight): Buffer {
  const stored = e.transposed ? transpose2d(values, e.dims[1], e.dims[0]) : values;
  const arr = e.dtype === 'bfloat16' ? f32ToBf16Bits(stored) : e.dtype === 'float16' ? f32ToF16Bits(stored) : stored;
  return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
}

function readRange(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    assert.equal(fs.readSync(fd, b, 0, length, offset), length, `${file}: ${length} bytes at ${offset}`);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

const supported = new Set(supportedModelTypes());

it('every weight read in place holds exactly the bytes the cache would hold; no architecture caches a matrix except the per-head q/k norms of StableLM', () => {
  const cases = parityCases().filter((c) => supported.has(c.architecture));
  assert.ok(cases.length >= 20);
  // and in 16 bits, the fixtures whose fused tensors are read in row blocks
  const dirs = cases.map((c) => ({ name: c.case, dir: path.join(PARITY_DIR, c.case) }));
  for (const name of ['phi3', 'falcon_7b_mqa']) dirs.push({ name: `${name} (bf16)`, dir: rewriteAsHalf(path.join(PARITY_DIR, name), path.join(root, `${name}-bf16`), 'BF16', 'half') });
  let inPlace = 0;
  let transposed = 0;
  let rowBlocks = 0;
  let halfRowBlocks = 0;
  for (const c of dirs.map((d) => ({ case: d.name, dir: d.dir }))) {
    const dir = c.dir;
    const { spec, weights: sources } = openModel(dir);
    const cache = exportWeights(spec, sources, `test-${c.case}`, path.join(root, 'export'), undefined, undefined, 'checkpoint');
    for (const s of sources) {
      const e = cache.weights.get(s.name)!;
      if (!e.file) continue;
      inPlace++;
      if (e.transposed) transposed++;
      if (s.stored?.rows) rowBlocks++;
      if (s.stored?.rows && e.dtype === 'bfloat16') halfRowBlocks++;
      assert.ok(s.stored, `${c.case} ${s.name}: read in place, but the architecture did not say where it is stored`);
      assert.equal(e.file, fs.realpathSync(s.stored.info.file), `${c.case} ${s.name}: file`);
      const want = expectedBytes(s.load(), e);
      assert.equal(e.length, want.length, `${c.case} ${s.name}: length`);
      assert.ok(readRange(e.file, e.offset, e.length).equals(want), `${c.case} ${s.name}: the bytes at ${e.file}:${e.offset} are not the weight`);
    }
    // what is still written to the cache must be there: weights.bin holds it
    const bin = fs.statSync(path.join(cache.dir, 'weights.bin')).size;
    for (const e of cache.weights.values()) if (!e.file) assert.ok(e.offset + e.length <= bin, `${c.case} ${e.name} past the end of weights.bin`);
    // no architecture copies a matrix, apart from StableLM's per-head q/k norm weights ([heads, head_dim])
    // and, of a 16-bit checkpoint, matrices too small to be kept 16-bit (converted to float32)
    const copied = (e: ExternalWeight): boolean => !e.file && e.dims.length === 2 && !/\.attn\.[qk]_norm\.weight$/.test(e.name);
    const cachedMatrices = [...cache.weights.values()].filter((e) => copied(e) && e.dims[0] * e.dims[1] >= HALF_MIN_VALUES).map((e) => e.name);
    assert.deepEqual(cachedMatrices, [], `${c.case}: matrices copied to the cache`);
  }
  assert.ok(transposed > 100, `linear weights read in place transposed: ${transposed}`);
  assert.ok(rowBlocks > 0 && halfRowBlocks > 0, `row blocks of fused tensors read in place: ${rowBlocks}, of them bf16 ${halfRowBlocks}`);
  assert.ok(inPlace > transposed);
});

it('with int8, a tied embedding\'s lookup rows are read in place (16-bit as stored), not cached in float32', () => {
  const dir = path.join(PARITY_DIR, 'llama3_rope_tied_bf16');
  const { spec, weights: sources } = openModel(dir);
  assert.equal(spec.tiedEmbeddings, true);
  const cache = exportWeights(spec, sources, 'test-int8-tied', path.join(root, 'export-int8'), undefined, 'int8', 'checkpoint');
  const e = cache.weights.get('embed.weight')!;
  assert.ok(e.file, 'embed.weight read in place');
  assert.equal(e.dtype, 'bfloat16');
  assert.ok(readRange(e.file, e.offset, e.length).equals(expectedBytes(sources.find((s) => s.name === 'embed.weight')!.load(), e)));
  assert.ok(cache.weights.has('embed.weight.q8'), 'and quantized for the unembedding');
});

it('inspect says what is read in place and what is copied to the cache', () => {
  const llama = inspectModel(path.join(PARITY_DIR, 'llama_untied')).cache;
  assert.ok(llama.inPlace.count > 0);
  assert.ok(llama.copied.names.every((n) => /norm/.test(n)), `llama copies only norms: ${llama.copied.names.join(', ')}`);
  const gemma = inspectModel(path.join(PARITY_DIR, 'gemma')).cache;
  assert.ok(gemma.copied.names.includes('final_norm.weight'), `gemma copies its norms (1 + w): ${gemma.copied.names.join(', ')}`);
  for (const fused of ['gpt2', 'bloom', 'gpt_neox_untied', 'falcon_new_arch']) {
    const r = inspectModel(path.join(PARITY_DIR, fused)).cache;
    assert.deepEqual(r.copied.names, [], `${fused} reads its fused q/k/v in place`);
  }
});

function profile(dir: string, cacheDir: string, prompts: { ids: number[] }[]): Promise<ProfileResult[]> {
  return profileAll(dir, { cacheDir, threads: 1 }, prompts, { maxNewTokens: 3, metrics: 'shannon' });
}

it('a checkpoint behind symbolic links, in another folder tree than the cache, profiles as the golden values say, also after it is moved', async () => {
  const name = 'llama_untied';
  const g = golden(name).prompts;
  const prompts = g.map((p) => ({ ids: p.input_ids }));
  // the Hugging Face cache's layout: snapshots/<rev>/<file> → ../../blobs/<hash>
  const hub = path.join(root, 'hub', 'models--x--y');
  const snap = path.join(hub, 'snapshots', 'rev1');
  fs.mkdirSync(path.join(hub, 'blobs'), { recursive: true });
  fs.mkdirSync(snap, { recursive: true });
  const src = path.join(PARITY_DIR, name);
  for (const [i, f] of fs.readdirSync(src).entries()) {
    fs.copyFileSync(path.join(src, f), path.join(hub, 'blobs', `blob${i}`));
    fs.symlinkSync(path.join('..', '..', 'blobs', `blob${i}`), path.join(snap, f));
  }
  const cacheDir = path.join(root, 'elsewhere', 'cache');
  const check = (out: ProfileResult[], what: string): void => {
    out.forEach((r, i) => {
      assert.deepEqual(r.generatedIds, g[i].generated_ids.slice(0, 3), `${what} prompt ${i}`);
      r.metrics.shannon.forEach((row, t) => row.forEach((v, l) => assert.ok(Math.abs(v - g[i].entropy[t][l]) < 1e-4, `${what} prompt ${i} step ${t} layer ${l}: ${v} vs ${g[i].entropy[t][l]}`)));
    });
  };
  check(await profile(snap, cacheDir, prompts), 'through links');
  const folders = fs.readdirSync(cacheDir).filter((d) => fs.existsSync(path.join(cacheDir, d, 'weights.json')));
  assert.equal(folders.length, 1);
  const idx = JSON.parse(fs.readFileSync(path.join(cacheDir, folders[0], 'weights.json'), 'utf8')) as { entries: ExternalWeight[] };
  assert.ok(idx.entries.some((e) => e.file?.startsWith(fs.realpathSync(path.join(hub, 'blobs')))), 'weights read from the blobs the links point at');
  // move the whole hub folder: the old index points at files that are gone, the new place gets its own
  const moved = path.join(root, 'hub-moved');
  fs.renameSync(path.join(root, 'hub'), moved);
  check(await profile(path.join(moved, 'models--x--y', 'snapshots', 'rev1'), cacheDir, prompts), 'after moving');
  assert.equal(fs.readdirSync(cacheDir).filter((d) => fs.existsSync(path.join(cacheDir, d, 'weights.json'))).length, 2);
});
