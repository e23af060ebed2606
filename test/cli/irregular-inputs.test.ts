/**
 * Inputs that used to hang or fail without a name (issue 13 items 9 and 12), through the real CLI
 * with a time limit: a FIFO, a device or a directory in place of a checkpoint, config or tokenizer
 * file; `--threads 1000000`; a tokenizer whose ids the model's embedding does not have.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { runCliAsync as runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

let root: string;
let good: string;
let env: Record<string, string>;

before(() => {
  root = tempDir('el-irregular-');
  good = writeTinyLlama(path.join(root, 'good'), { layers: 2, seed: 4 });
  env = { ENTROPYLENS_CACHE: path.join(root, 'cache') };
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A copy of the good model with `file` replaced by what `make` puts at its path. */
function modelWith(name: string, file: string, make: (p: string) => void): string {
  const dir = path.join(root, name);
  fs.cpSync(good, dir, { recursive: true });
  fs.rmSync(path.join(dir, file));
  make(path.join(dir, file));
  return dir;
}

const fifo = (p: string): void => void execFileSync('mkfifo', [p]);
const devZero = (p: string): void => fs.symlinkSync('/dev/zero', p);
const directory = (p: string): void => fs.mkdirSync(p);

const cases: [string, string, (p: string) => void, RegExp][] = [
  ['fifo-weights', 'model.safetensors', fifo, /safetensors file \S+model\.safetensors is a FIFO \(named pipe\), not a regular file/],
  ['zero-weights', 'model.safetensors', devZero, /safetensors file \S+model\.safetensors is a character device/],
  ['dir-weights', 'model.safetensors', directory, /safetensors file \S+model\.safetensors is a directory, not a regular file/],
  ['zero-config', 'config.json', devZero, /config\.json \S+config\.json is a character device/],
  ['fifo-tokenizer', 'tokenizer.json', fifo, /tokenizer \S+tokenizer\.json is a FIFO/],
  ['zero-tokenizer-config', 'tokenizer_config.json', devZero, /tokenizer config \S+tokenizer_config\.json is a character device/],
];

for (const [name, file, make, message] of cases) {
  it(`${file} as ${name.split('-')[0]}: one line naming the file, no hang`, async () => {
    const dir = modelWith(name, file, make);
    const r = await runCli(['profile', dir, '--prompt', 'Once upon a time', '--max-new-tokens', '1'], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(r.stderr.includes(path.join(dir, file)), r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
}

it('--threads 1000000 is capped at the core count with a note, and runs', async () => {
  const r = await runCli(['profile', good, '--prompt', 'Once upon a time', '--max-new-tokens', '1', '--threads', '1000000', '--json'], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /note: --threads 1000000 is more than the \d+ CPU cores here; using \d+/);
  assert.equal(JSON.parse(r.stdout).results.length, 1);
});

it('a tokenizer with more ids than the embedding has rows is named as the problem (not the cache)', async () => {
  const dir = writeTinyLlama(path.join(root, 'small-vocab'), { layers: 2, seed: 4, vocab: 200 });
  const r = await runCli(['profile', dir, '--prompt', 'Once upon a time, the squirrel continued everywhere', '--max-new-tokens', '1'], { env, timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /prompt 1 tokenizes to id \d+, but the model's embedding has 200 rows while .*tokenizer\.json has 1024 tokens: the tokenizer does not belong to this model/);
  assert.doesNotMatch(r.stderr, /cache/);
});
