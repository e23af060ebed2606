/**
 * The weight cache is keyed by the checkpoint's content, not by file names, sizes and times: a copy
 * of a checkpoint with edited weights but the same size and modification time, and a checkpoint
 * edited in place with its modification time restored, both give the edited model's numbers (those
 * of a load into an empty cache), never the cached ones of the original.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { LensModel } from '../../src/lens/model.js';
import { readSafetensorsHeader } from '../../src/models/safetensors.js';
import { PARITY_DIR } from '../helpers/fixtures.js';

const CASE = 'llama_untied';
const PROMPTS = [{ ids: [1, 5, 17, 33, 2] }];
/** One whole second, so that the copies' times are equal to the last bit in any file system. */
const WHEN = new Date(1_700_000_000_000);

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-cache-content-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function copyCheckpoint(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync(path.join(PARITY_DIR, CASE))) fs.copyFileSync(path.join(PARITY_DIR, CASE, f), path.join(dir, f));
  for (const f of fs.readdirSync(dir)) fs.utimesSync(path.join(dir, f), WHEN, WHEN);
  return dir;
}

/**
 * Rewrite some weights of the checkpoint in `dir` in place (same size): the final norm, a norm of
 * every block and a projection of every block are scaled, then the file's times are set back.
 */
function editWeights(dir: string): void {
  const file = path.join(dir, 'model.safetensors');
  const { tensors } = readSafetensorsHeader(file);
  const fd = fs.openSync(file, 'r+');
  try {
    for (const t of tensors) {
      if (!/(^model\.norm\.weight|input_layernorm\.weight|mlp\.up_proj\.weight)$/.test(t.name)) continue;
      assert.equal(t.dtype, 'F32');
      const buf = Buffer.alloc(t.byteLength);
      fs.readSync(fd, buf, 0, t.byteLength, t.offset);
      const v = new Float32Array(buf.buffer, buf.byteOffset, t.byteLength / 4);
      for (let i = 0; i < v.length; i++) v[i] = v[i] * 2.5 + 0.25;
      fs.writeSync(fd, buf, 0, t.byteLength, t.offset);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.utimesSync(file, WHEN, WHEN);
}

async function shannon(dir: string, cacheDir: string): Promise<number[][]> {
  const model = await LensModel.load(dir, { cacheDir, threads: 1 });
  try {
    for await (const r of model.profile(PROMPTS, { maxNewTokens: 3 })) return r.metrics.shannon;
    throw new Error('no result');
  } finally {
    await model.close();
  }
}

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, t) => row.forEach((v, l) => (m = Math.max(m, Math.abs(v - b[t][l])))));
  return m;
}

it('a copy with edited weights, same names, sizes and times, is not served the original cache', async () => {
  const shared = path.join(tmp, 'cache-copy');
  const original = copyCheckpoint('original');
  const edited = copyCheckpoint('edited');
  editWeights(edited);
  for (const f of ['model.safetensors', 'config.json']) {
    const a = fs.statSync(path.join(original, f));
    const b = fs.statSync(path.join(edited, f));
    assert.equal(a.size, b.size);
    assert.equal(a.mtimeMs, b.mtimeMs);
  }
  const before = await shannon(original, shared);
  const fresh = await shannon(edited, path.join(tmp, 'cache-fresh'));
  assert.ok(maxDiff(before, fresh) > 0.05, 'the edit changes the entropies');
  const got = await shannon(edited, shared);
  assert.ok(maxDiff(got, fresh) < 1e-6, `the edited copy gives its own numbers (off by ${maxDiff(got, fresh)} from a fresh cache, ${maxDiff(got, before)} from the original's)`);
});

it('a checkpoint edited in place with its times restored is not served its old cache', async () => {
  const shared = path.join(tmp, 'cache-inplace');
  const dir = copyCheckpoint('inplace');
  const before = await shannon(dir, shared);
  editWeights(dir);
  const fresh = await shannon(dir, path.join(tmp, 'cache-inplace-fresh'));
  assert.ok(maxDiff(before, fresh) > 0.05, 'the edit changes the entropies');
  const got = await shannon(dir, shared);
  assert.ok(maxDiff(got, fresh) < 1e-6, `the edited checkpoint gives its own numbers (off by ${maxDiff(got, fresh)} from a fresh cache)`);
});
