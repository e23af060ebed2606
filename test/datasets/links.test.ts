/**
 * Dataset folders with symlink cycles and irregular files (issue 13 item 9): every file is read once,
 * no cycle is followed, and a FIFO or a device given as a data file is refused by name (not read).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { loadTinyStories, localSplitFiles, readDataFile } from '../../src/datasets/index.js';
import { listFilesRecursive } from '../../src/hub/index.js';
import { UserError } from '../../src/util/errors.js';

let dir: string;
const stories = Array.from({ length: 60 }, (_, i) => `Story number ${i} about a cat.`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'el-links-'));
  await writeFile(join(dir, 'Stories-valid.txt'), stories.join('\n<|endoftext|>\n') + '\n');
});
after(() => rm(dir, { recursive: true, force: true }));

it('a folder linking to itself is read once (was: the file 40 times)', async () => {
  const folder = join(dir, 'only', 'selfref');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'Stories-valid.txt'), stories.join('\n<|endoftext|>\n') + '\n');
  await symlink('.', join(folder, 'loop'));
  await symlink('..', join(folder, 'up')); // to the parent, which holds only this folder
  await mkdir(join(folder, 'sub'));
  await symlink('../..', join(folder, 'sub', 'back'));
  const got = await loadTinyStories(folder, { limit: 1000 });
  assert.equal(got.length, 60);
  assert.deepEqual(got.map((s) => s.text), stories);
});

it('a second link to a folder already walked adds no files', async () => {
  const folder = join(dir, 'twice');
  await mkdir(join(folder, 'data'), { recursive: true });
  await writeFile(join(folder, 'data', 'validation.jsonl'), '{"text":"a"}\n{"text":"b"}\n');
  await symlink('data', join(folder, 'alias'));
  assert.deepEqual(await listFilesRecursive(folder), ['alias/validation.jsonl']);
  assert.equal((await localSplitFiles(folder, { split: 'validation' })).length, 1);
});

it('a FIFO or a device given as a data file is refused by name, without reading it', { timeout: 20_000 }, async () => {
  const fifo = join(dir, 'pipe.txt');
  execFileSync('mkfifo', [fifo]);
  const zero = join(dir, 'zero.jsonl');
  await symlink('/dev/zero', zero);
  const folderTxt = join(dir, 'folder.txt');
  await mkdir(folderTxt);
  for (const [file, kind] of [[fifo, 'FIFO'], [zero, 'character device'], [folderTxt, 'directory']] as const) {
    await assert.rejects(readDataFile(file), (err: unknown) => {
      assert.ok(err instanceof UserError, String(err));
      assert.ok(err.message.includes(file) && err.message.includes(kind), err.message);
      return true;
    });
  }
  // In a folder, a FIFO is not a data file at all.
  const folder = join(dir, 'withfifo');
  await mkdir(folder);
  execFileSync('mkfifo', [join(folder, 'b-valid.txt')]);
  await writeFile(join(folder, 'a-valid.txt'), 'One.\n');
  assert.deepEqual(await listFilesRecursive(folder), ['a-valid.txt']);
});
