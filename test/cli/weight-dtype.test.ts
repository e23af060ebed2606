/**
 * `--weight-dtype` through the CLI on a bf16 parity checkpoint: by default the cache keeps its
 * matrices in bf16, with entropies and tokens equal to `--weight-dtype float32`'s, the JSON says which
 * was used, and a bad value is refused by name.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { PARITY_DIR } from '../helpers/fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const root = tempDir('el-wdtype-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

interface Doc {
  options: { weight_dtype: string };
  results: { generated_ids: number[]; metrics: Record<string, number[][]> }[];
}

it('profile keeps bf16 weights bf16 by default, with the same numbers as --weight-dtype float32', () => {
  const model = path.join(PARITY_DIR, 'llama3_rope_tied_bf16');
  const run = (extra: string[], cache: string): Doc => {
    const r = runCli(['profile', model, '--input-ids', '1,5,9,33,2', '--input-ids', '7,7,100,4', '--max-new-tokens', '4', '--metrics', 'shannon,renyi:2', '--json', '--cache-dir', path.join(root, cache), ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Doc;
  };
  const exact = run(['--weight-dtype', 'float32'], 'a');
  const half = run([], 'b');
  assert.equal(exact.options.weight_dtype, 'float32');
  assert.equal(half.options.weight_dtype, 'checkpoint');
  half.results.forEach((r, i) => {
    assert.deepEqual(r.generated_ids, exact.results[i].generated_ids);
    for (const m of ['shannon', 'renyi:2']) r.metrics[m].flat().forEach((v, j) => assert.ok(Math.abs(v - exact.results[i].metrics[m].flat()[j]) <= 1e-5, `${m} ${j}`));
  });
  const dtypes = (cache: string): string[] => {
    const dir = fs.readdirSync(path.join(root, cache)).find((d) => fs.existsSync(path.join(root, cache, d, 'weights.json')))!;
    const idx = JSON.parse(fs.readFileSync(path.join(root, cache, dir, 'weights.json'), 'utf8')) as { entries: { dims: number[]; dtype?: string }[] };
    return idx.entries.filter((e) => e.dims.length === 2).map((e) => e.dtype ?? 'float32');
  };
  assert.ok(dtypes('a').every((d) => d === 'float32'));
  assert.ok(dtypes('b').every((d) => d === 'bfloat16'));
  const bad = runCli(['profile', model, '--input-ids', '1,2', '--weight-dtype', 'int8', '--cache-dir', path.join(root, 'c')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--weight-dtype 'int8': give checkpoint/);
});
