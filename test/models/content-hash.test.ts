/**
 * The content fingerprint that keys the weight cache: equal for equal bytes wherever they lie, changed
 * by any edit (also one that keeps the size and restores the times), each file read once and then
 * known by its stat, Hugging Face cache blobs taken by the hash they are named by.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { contentFingerprint } from '../../src/models/content-hash.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const root = tempDir('el-content-');
after(() => fs.rmSync(root, { recursive: true, force: true }));
const WHEN = new Date(1_700_000_000_000);

function write(dir: string, name: string, bytes: Uint8Array | string): string {
  fs.mkdirSync(dir, { recursive: true });
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  fs.utimesSync(f, WHEN, WHEN);
  return f;
}

/** The fingerprint, and how many bytes had to be read for it. */
function fp(files: string[], cache: string): { fp: string; read: number } {
  let read = 0;
  const v = contentFingerprint(files, cache, (done) => (read = done));
  return { fp: v, read };
}

const weights = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 251));

it('equal bytes in two folders give one fingerprint; an edit of the same size and times gives another', () => {
  const cache = path.join(root, 'cache1');
  const a = [write(path.join(root, 'a'), 'config.json', '{}'), write(path.join(root, 'a'), 'model.safetensors', weights)];
  const b = [write(path.join(root, 'b'), 'config.json', '{}'), write(path.join(root, 'b'), 'model.safetensors', weights)];
  assert.equal(fp(a, cache).fp, fp(b, cache).fp);
  const edited = Buffer.from(weights);
  edited[100] ^= 1;
  const c = [write(path.join(root, 'c'), 'config.json', '{}'), write(path.join(root, 'c'), 'model.safetensors', edited)];
  assert.equal(fs.statSync(c[1]).size, fs.statSync(a[1]).size);
  assert.equal(fs.statSync(c[1]).mtimeMs, fs.statSync(a[1]).mtimeMs);
  assert.notEqual(fp(c, cache).fp, fp(a, cache).fp);
});

it('a file is read once; edited in place with its times restored, it is read again and changes the fingerprint', () => {
  const cache = path.join(root, 'cache2');
  const dir = path.join(root, 'inplace');
  const files = [write(dir, 'config.json', '{"x":1}'), write(dir, 'model.safetensors', weights)];
  const first = fp(files, cache);
  assert.equal(first.read, weights.length + 7);
  const again = fp(files, cache);
  assert.deepEqual(again, { fp: first.fp, read: 0 }, 'known by its stat: nothing read');
  const fd = fs.openSync(files[1], 'r+');
  fs.writeSync(fd, Buffer.from([weights[5] ^ 0xff]), 0, 1, 5);
  fs.closeSync(fd);
  fs.utimesSync(files[1], WHEN, WHEN);
  const after = fp(files, cache);
  assert.equal(after.read, weights.length, 'the edited file is hashed again (its ctime moved)');
  assert.notEqual(after.fp, first.fp);
});

it('Hugging Face cache blobs are taken by the hash they are named by, unread, and agree with a plain copy', () => {
  const cache = path.join(root, 'cache3');
  const hub = path.join(root, 'hub', 'models--x--y');
  const sha = createHash('sha256').update(weights).digest('hex');
  const blob = write(path.join(hub, 'blobs'), sha, weights);
  const config = '{}';
  const configBlob = write(path.join(hub, 'blobs'), createHash('sha256').update(config).digest('hex'), config);
  const snap = path.join(hub, 'snapshots', 'abc');
  fs.mkdirSync(snap, { recursive: true });
  fs.symlinkSync(path.relative(snap, configBlob), path.join(snap, 'config.json'));
  fs.symlinkSync(path.relative(snap, blob), path.join(snap, 'model.safetensors'));
  const viaHub = fp([path.join(snap, 'config.json'), path.join(snap, 'model.safetensors')], cache);
  assert.equal(viaHub.read, 0);
  const plain = fp([write(path.join(root, 'plain'), 'config.json', config), write(path.join(root, 'plain'), 'model.safetensors', weights)], cache);
  assert.equal(viaHub.fp, plain.fp);
});

it('an unwritable cache folder costs a re-hash, not an error', () => {
  const cacheFile = write(root, 'not-a-folder', 'x');
  const files = [write(path.join(root, 'd'), 'model.safetensors', weights)];
  assert.equal(fp(files, cacheFile).read, weights.length);
  assert.equal(fp(files, cacheFile).read, weights.length);
});
