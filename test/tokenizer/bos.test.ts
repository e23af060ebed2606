/** The BOS rule (PROTOCOL §1): prepend the tokenizer's BOS to text prompts when it has one. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { LensModel } from '../../src/lens/model.js';
import { TextTokenizer } from '../../src/tokenizer/index.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';

const root = tempDir('el-bos-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

function withTokenizerConfig(name: string, edit: (cfg: Record<string, unknown>) => void, bosTokenId?: number): string {
  const dir = writeTinyLlama(path.join(root, name), { layers: 1, seed: 2 });
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  edit(cfg);
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  config.bos_token_id = bosTokenId ?? null;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

async function ids(dir: string, bos = true): Promise<number[]> {
  const m = await LensModel.load(dir, { cacheDir: path.join(root, 'cache') });
  try {
    return m.promptIds('Once upon a time', 0, bos).ids;
  } finally {
    await m.close();
  }
}

it('prepends the BOS named by tokenizer_config.json, once, and not with --no-bos', async () => {
  const dir = withTokenizerConfig('named', () => {}, 1);
  const body = TextTokenizer.load(dir)!.encode('Once upon a time');
  assert.notEqual(body[0], 1, 'the tokenizer adds no special token by itself here');
  assert.deepEqual(await ids(dir), [1, ...body]);
  assert.deepEqual(await ids(dir, false), body);
});

it('falls back to config.json bos_token_id when tokenizer_config.json says nothing (GPT-2 style)', async () => {
  const dir = withTokenizerConfig('fallback', (cfg) => delete cfg.bos_token, 2);
  const body = TextTokenizer.load(dir)!.encode('Once upon a time');
  assert.deepEqual(await ids(dir), [2, ...body]);
});

it('an explicit "bos_token": null means no BOS (Qwen style)', async () => {
  const dir = withTokenizerConfig('none', (cfg) => (cfg.bos_token = null), 1);
  const body = TextTokenizer.load(dir)!.encode('Once upon a time');
  assert.deepEqual(await ids(dir), body);
});
