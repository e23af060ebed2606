import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { readResults } from '../../src/store/index.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const root = tempDir('el-demo-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

it('demo: decoded-layers view, task identification on fresh stories, dataset and figures written', async () => {
  const out = path.join(root, 'demo-out');
  const r = runCli(['demo', '--n-stories', '8', '--out', out, '--cache-dir', path.join(root, 'cache')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /What the lens sees/);
  assert.match(r.stdout, /step 0 → /);
  assert.match(r.stdout, /Who is the subject of the story\?/);
  assert.match(r.stdout, /ROC-AUC/);
  assert.match(r.stdout, new RegExp(`to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const data = await readResults(out);
  assert.equal(data.rows.length, 8 * 24);
  assert.deepEqual([...new Set(data.rows.map((x) => x.labels.task))].sort(), ['continuation', 'counting', 'semantic']);
  assert.equal(data.rows[0].n_layers, 6);
  const pngs = fs.readdirSync(path.join(out, 'figures')).filter((f) => f.endsWith('.png'));
  assert.ok(pngs.includes('profiles-by-task.png'));
  // a second run starts afresh in its own folder
  const again = runCli(['demo', '--n-stories', '4', '--out', out, '--cache-dir', path.join(root, 'cache')]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await readResults(out)).rows.length, 4 * 24);
});

it('demo refuses to clear a folder it did not write (other files, or another run\'s results)', async () => {
  const out = path.join(root, 'precious');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'notes.txt'), 'keep me');
  const r = runCli(['demo', '--n-stories', '2', '--out', out]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /does not hold an earlier demo's results/);
  assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'keep me');
  // results of another run are left alone too
  const other = path.join(root, 'other-run');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'manifest.json'), JSON.stringify({ experiment: 'tinystories', options: { dataset: 'roneneldan/TinyStories' }, shards: [] }));
  const again = runCli(['demo', '--n-stories', '2', '--out', other]);
  assert.notEqual(again.code, 0);
  assert.ok(fs.existsSync(path.join(other, 'manifest.json')));
});
