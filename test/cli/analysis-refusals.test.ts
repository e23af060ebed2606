/**
 * Analysis commands that used to answer nonsense with exit 0: classify on one class (accuracy
 * 1.000) or on profiles without features, plot with a label the data does not have.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { ResultsWriter } from '../../src/store/index.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const root = tempDir('el-refusals-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

async function dataset(name: string, label: (i: number) => string, layers = 3): Promise<string> {
  const dir = path.join(root, name);
  const w = await ResultsWriter.open(dir, { model: 'm', experiment: 'formats', labelColumns: { format: 'string' } });
  await w.appendShard(
    Array.from({ length: 40 }, (_, i) => ({ sample_id: `s${i}`, metric: 'shannon', labels: { format: label(i) }, n_steps: 1, n_layers: layers, values: Array.from({ length: layers }, (_, l) => Math.sin(i * 7 + l)), sample_index: i })),
  );
  return dir;
}

it('classify refuses a single class and profiles with no features', async () => {
  const one = runCli(['classify', await dataset('one', () => 'poem'), '--metric', 'shannon', '--windows', '1']);
  assert.notEqual(one.code, 0);
  assert.match(one.stderr, /every sample has the same label \(poem\): classifying needs at least two classes/);
  const none = runCli(['classify', await dataset('none', (i) => (i % 2 ? 'poem' : 'list'), 0), '--metric', 'shannon']);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no features/);
});

it('plot --label with a label the data lacks names the ones it has, and writes nothing', async () => {
  const dir = await dataset('plot', (i) => (i % 2 ? 'poem' : 'list'));
  const r = runCli(['plot', dir, '--label', 'nope']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no label column 'nope'.*available: format/);
  assert.ok(!fs.existsSync(path.join(dir, 'figures')) || !fs.readdirSync(path.join(dir, 'figures')).some((f) => f.includes('undefined')));
});
