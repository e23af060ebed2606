/**
 * Hub ids through the real CLI against a local fake hub (nothing leaves 127.0.0.1): `profile` and
 * `run tinystories` download the model and the dataset into a fresh HF cache, then work offline
 * from it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { generateStories } from '../../src/datasets/demo-stories.js';
import { FakeHub } from '../helpers/fake-hub.js';
import { runCliAsync as runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

let root: string;
let hub: FakeHub;
let env: Record<string, string>;

before(async () => {
  root = tempDir('el-hubcli-');
  const dir = writeTinyLlama(path.join(root, 'src-model'), { layers: 2, seed: 5 });
  const files = fs.readdirSync(dir).map((f) => ({ path: f, content: fs.readFileSync(path.join(dir, f)), lfs: f.endsWith('.safetensors') }));
  const txt = generateStories(7, 3).map((s) => s.text).join('\n<|endoftext|>\n') + '\n';
  hub = await new FakeHub([
    { type: 'model', id: 'acme/tiny-llama', files },
    { type: 'dataset', id: 'acme/stories', files: [{ path: 'README.md', content: '# stories' }, { path: 'Stories-valid.txt', content: txt }, { path: 'Stories-train.txt', content: 'not this one' }] },
  ]).start();
  env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: path.join(root, 'hf'), ENTROPYLENS_CACHE: path.join(root, 'el'), HF_HUB_OFFLINE: '' };
});
after(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});

it('profile <hub id> downloads into the HF cache, then runs offline from it', async () => {
  const args = ['profile', 'acme/tiny-llama', '--prompt', 'Once upon a time', '--max-new-tokens', '2', '--json'];
  const first = await runCli(args, { env });
  assert.equal(first.code, 0, first.stderr);
  const doc = JSON.parse(first.stdout);
  assert.equal(doc.model.model_type, 'llama');
  assert.match(doc.model.path, /models--acme--tiny-llama[/\\]snapshots[/\\][0-9a-f]{40}$/);
  assert.equal(doc.results[0].input_ids[0], 1, 'BOS prepended');
  const offline = await runCli(args, { env: { ...env, HF_HUB_OFFLINE: '1' } });
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(JSON.parse(offline.stdout).results, doc.results);
});

it('an unknown hub id is a one-line error', async () => {
  const r = await runCli(['profile', 'acme/missing-model', '--prompt', 'x'], { env });
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /acme\/missing-model/);
});

it('run tinystories --dataset <hub id> reads the validation split from the hub', async () => {
  const out = path.join(root, 'ts');
  const r = await runCli(['run', 'tinystories', '--model', 'acme/tiny-llama', '--dataset', 'acme/stories', '--n-stories', '3', '--max-new-tokens', '2', '--out', out, '--no-figures'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /72 samples written/);
});

it('a hub that never answers ends in one line naming HF_HUB_ETAG_TIMEOUT, within the configured time', async () => {
  hub.misbehave(/^HEAD /, { kind: 'stall' });
  try {
    const t0 = Date.now();
    const r = await runCli(['profile', 'acme/tiny-llama', '--prompt', 'x'], {
      env: { ...env, HF_HUB_CACHE: path.join(root, 'hf-stall'), HF_HUB_ETAG_TIMEOUT: '0.3' },
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /did not answer for 0\.3 s .*3 attempts.*HF_HUB_ETAG_TIMEOUT/);
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
  } finally {
    hub.behave();
  }
});
