/**
 * A hub that answers with hostile metadata or never finishes answering (issue 13 items 2 and 8),
 * played by the local fake hub. Every path built from the server's strings must stay in the cache,
 * and every stall must end in a message within the configured timeouts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { downloadToCache, listRepoFiles, resolveDatasetFiles, resolveHubOptions, resolveModelDir } from '../../src/hub/index.js';
import { nextLink } from '../../src/hub/list.js';
import { rejectsUser } from '../helpers/rejects-user.js';
import { sha256, startFakeHub, type FakeHub } from '../helpers/fake-hub.js';

for (const k of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_ETAG_TIMEOUT', 'HF_HUB_DOWNLOAD_TIMEOUT']) delete process.env[k];

const config = JSON.stringify({ model_type: 'gpt2', n_layer: 2 });
const tokenizer = JSON.stringify({ version: '1.0', model: { type: 'BPE' } });
const shard = randomBytes(20_000);
const weights = randomBytes(50_000);

// From {tmp}/cache/models--o--n/snapshots/{commit}/ four '..' reach {tmp}; from .../blobs/ three do.
const ESCAPE_SHARD = '../../../../outside/elsewhere.safetensors';
const ESCAPE_ETAG = '../../../outside/etag-blob';
const ESCAPE_COMMIT = '../../../outside/commit-snapshot';

let hub: FakeHub;
let tmp: string;
let cacheDir: string;
let outside: string;
const made: string[] = [];

function model(id: string, extra: { path: string; content: string | Buffer; lfs?: boolean; headers?: Record<string, string> }[]) {
  return { type: 'model' as const, id, files: [{ path: 'config.json', content: config }, { path: 'tokenizer.json', content: tokenizer }, ...extra] };
}

before(async () => {
  hub = await startFakeHub([
    model('evil/escaping-index', [
      { path: 'model.safetensors.index.json', content: JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: ESCAPE_SHARD } }) },
      { path: 'model-00001-of-00002.safetensors', content: shard, lfs: true },
    ]),
    model('evil/etag', [{ path: 'model.safetensors', content: weights, lfs: true, headers: { 'x-linked-etag': `"${ESCAPE_ETAG}"` } }]),
    model('evil/small-etag', [{ path: 'model.safetensors', content: 'tiny', headers: { etag: `"${ESCAPE_ETAG}"` } }]),
    {
      type: 'model',
      id: 'evil/commit',
      files: [
        { path: 'config.json', content: config, headers: { 'x-repo-commit': ESCAPE_COMMIT } },
        { path: 'tokenizer.json', content: tokenizer },
        { path: 'model.safetensors', content: weights, lfs: true },
      ],
    },
    {
      type: 'dataset',
      id: 'evil/data',
      files: [{ path: 'data/../../../../outside/validation.parquet', content: randomBytes(100) }],
    },
    model('good/model', [{ path: 'model.safetensors', content: weights, lfs: true }]),
  ]);
});
after(async () => {
  await hub.close();
  for (const d of made) await rm(d, { recursive: true, force: true });
});
beforeEach(async () => {
  hub.behave();
  tmp = await mkdtemp(join(tmpdir(), 'el-hostile-'));
  made.push(tmp);
  cacheDir = join(tmp, 'cache');
  outside = join(tmp, 'outside');
  hub.requests.length = 0;
});

const opts = <T extends object>(more: T = {} as T) => ({ cacheDir, endpoint: hub.url, ...more });


async function absent(path: string): Promise<void> {
  await assert.rejects(lstat(path), { code: 'ENOENT' }, `${path} was created`);
}

describe('hub paths stay in the cache (item 2)', () => {
  it('a weight_map naming ../../… is refused before any file is created or downloaded under it', async () => {
    // A hostile hub answers any request (the escaping path included) with a real file.
    hub.misbehave(/outside/, { kind: 'as-file', type: 'model', id: 'evil/escaping-index', path: 'model-00001-of-00002.safetensors' });
    await rejectsUser(resolveModelDir('evil/escaping-index', opts()), 'weight_map', ESCAPE_SHARD, 'not a safe relative path');
    await absent(outside);
    await absent(join(tmp, 'outside', 'elsewhere.safetensors'));
    assert.equal(hub.requestsMatching(/outside|model-00001/).length, 0, 'no shard was requested');
  });

  it('an escaping weight_map in a cached snapshot does not make an existing outside file a shard', async () => {
    const commit = 'c'.repeat(40);
    const snap = join(cacheDir, 'models--evil--cached-index', 'snapshots', commit);
    await mkdir(snap, { recursive: true });
    await mkdir(join(cacheDir, 'models--evil--cached-index', 'refs'), { recursive: true });
    await writeFile(join(cacheDir, 'models--evil--cached-index', 'refs', 'main'), commit);
    await writeFile(join(snap, 'config.json'), config);
    await writeFile(join(snap, 'tokenizer.json'), tokenizer);
    await writeFile(join(snap, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: ESCAPE_SHARD } }));
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'elsewhere.safetensors'), 'not yours');
    await rejectsUser(resolveModelDir('evil/cached-index', opts({ offline: true })), 'weight_map', ESCAPE_SHARD);
  });

  it('an X-Linked-ETag with ../ is refused before anything is written (LFS file)', async () => {
    await rejectsUser(resolveModelDir('evil/etag', opts()), 'ETag', 'sha1 or sha256', hub.url);
    await absent(outside);
    assert.equal(hub.requestsMatching(/\/cdn\//).length, 0, 'nothing was downloaded');
  });

  it('an ETag with ../ is refused before anything is written (regular file)', async () => {
    const o = resolveHubOptions(opts());
    await rejectsUser(downloadToCache(o, 'model', 'evil/small-etag', 'model.safetensors'), 'ETag', ESCAPE_ETAG);
    await absent(outside);
    await absent(join(cacheDir, 'models--evil--small-etag', 'blobs'));
  });

  it('an X-Repo-Commit with .. is refused before a snapshot or a ref is written', async () => {
    await rejectsUser(resolveModelDir('evil/commit', opts()), 'X-Repo-Commit', '40-hex');
    await absent(outside);
    await absent(join(cacheDir, 'models--evil--commit', 'refs'));
    await absent(join(cacheDir, 'models--evil--commit', 'snapshots'));
  });

  it('a file name with .. in the listing of a dataset is refused before it is requested', async () => {
    await rejectsUser(resolveDatasetFiles('evil/data', opts({ split: 'validation' })), 'not a safe relative path', "'..'");
    assert.equal(hub.requestsMatching(/resolve/).length, 0);
    await absent(outside);
  });

  it('a revision with .. never becomes a ref path', async () => {
    await rejectsUser(resolveModelDir('good/model', opts({ revision: '../../../outside/ref' })), 'Revision', '--revision');
    await absent(outside);
    assert.equal(hub.requests.length, 0);
  });

  it('a ref file that does not hold a commit hash is ignored, not followed', async () => {
    const root = join(cacheDir, 'models--good--model');
    await mkdir(join(root, 'refs'), { recursive: true });
    await writeFile(join(root, 'refs', 'main'), '../../../outside');
    await mkdir(join(outside, 'x'), { recursive: true });
    const dir = await resolveModelDir('good/model', opts());
    assert.ok(dir.startsWith(join(root, 'snapshots')), dir);
    assert.deepEqual(await readFile(join(dir, 'model.safetensors')), weights);
  });

  it('file names are checked whatever their source', async () => {
    const o = resolveHubOptions(opts());
    for (const bad of ['/etc/passwd', 'a/../../b', '..', 'a//b', './a', 'C:/x', 'a\\..\\b', 'a\0b', '']) {
      await rejectsUser(downloadToCache(o, 'model', 'good/model', bad), 'not a safe relative path');
    }
    assert.equal(hub.requests.length, 0);
    await absent(cacheDir);
  });
});

describe('timeouts and page limits (item 8)', () => {
  const fast = (more: object = {}) => opts({ etagTimeout: 0.2, downloadTimeout: 0.2, maxAttempts: 2, ...more });

  it('a HEAD that never gets an answer ends in a message naming HF_HUB_ETAG_TIMEOUT', { timeout: 10_000 }, async () => {
    hub.misbehave(/^HEAD /, { kind: 'stall' });
    const t0 = Date.now();
    await rejectsUser(resolveModelDir('good/model', fast()), 'did not answer for 0.2 s', 'HF_HUB_ETAG_TIMEOUT', '2 attempts');
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(hub.requestsMatching(/resolve\/main\/config\.json/).length, 2, 'retried once');
  });

  it('a download whose body trickles (one byte per 400 ms) ends in a message naming HF_HUB_DOWNLOAD_TIMEOUT', { timeout: 10_000 }, async () => {
    hub.misbehave(/^GET \/cdn\//, { kind: 'trickle', intervalMs: 400 });
    await rejectsUser(resolveModelDir('good/model', fast()), 'stopped sending data for 0.2 s', 'HF_HUB_DOWNLOAD_TIMEOUT', 'model.safetensors');
  });

  it('a download that stalls once is retried and completes', { timeout: 10_000 }, async () => {
    hub.misbehave(/^GET \/cdn\//, { kind: 'stall' }, 1);
    const dir = await resolveModelDir('good/model', fast());
    assert.deepEqual(await readFile(join(dir, 'model.safetensors')), weights);
    assert.equal(hub.requestsMatching(new RegExp(`/cdn/${sha256(weights)}`)).length, 2);
  });

  it('a listing whose next page is itself stops at once', { timeout: 10_000 }, async () => {
    hub.misbehave(/^GET \/api\//, { kind: 'self-link' });
    await rejectsUser(listRepoFiles(resolveHubOptions(fast()), 'model', 'good/model', 'main'), 'already read');
    assert.equal(hub.requestsMatching(/\/api\//).length, 1);
  });

  it('a listing that never ends stops at the page limit', { timeout: 10_000 }, async () => {
    hub.misbehave(/^GET \/api\//, { kind: 'endless-pages' });
    await rejectsUser(listRepoFiles(resolveHubOptions(fast()), 'model', 'good/model', 'main', true, 25), 'more than 25 pages');
    assert.equal(hub.requestsMatching(/\/api\//).length, 25);
  });

  it('a listing page that stalls ends in a message', { timeout: 10_000 }, async () => {
    hub.misbehave(/^GET \/api\//, { kind: 'trickle', intervalMs: 1000 });
    await rejectsUser(listRepoFiles(resolveHubOptions(fast()), 'model', 'good/model', 'main'), 'stopped sending data', 'HF_HUB_ETAG_TIMEOUT');
  });

  it('a next-page link to another server is not followed (the token would go with it)', { timeout: 10_000 }, async () => {
    const other = hub.url.replace('127.0.0.1', 'localhost');
    hub.misbehave(/^GET \/api\//, { kind: 'foreign-link', url: `${other}/api/models/good/model/tree/main?cursor=1` }, 1);
    await rejectsUser(listRepoFiles(resolveHubOptions(fast({ token: 'hf_secret' })), 'model', 'good/model', 'main'), 'another server');
    assert.equal(hub.requests.length, 1);
  });

  it('a next-page link that is not a URL is an error naming it', async () => {
    hub.misbehave(/^GET \/api\//, { kind: 'answer', status: 200, headers: { 'content-type': 'application/json', link: '<http://[::1>; rel="next"' }, body: '[]' });
    await rejectsUser(listRepoFiles(resolveHubOptions(fast()), 'model', 'good/model', 'main'), 'not a URL', 'http://[::1');
  });

  it('a protocol-relative redirect (//host/…) of a HEAD is not followed with the token', async () => {
    const other = hub.url.replace('http://127.0.0.1', '//localhost');
    hub.misbehave(/^HEAD /, { kind: 'answer', status: 302, headers: { location: `${other}/evil/x/resolve/main/config.json` } }, 1);
    await rejectsUser(downloadToCache(resolveHubOptions(fast({ token: 'hf_secret' })), 'model', 'good/model', 'config.json'), 'X-Repo-Commit');
    assert.equal(hub.requests.length, 1);
  });

  it('reads HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT (seconds, default 10) and refuses nonsense', () => {
    const d = resolveHubOptions({}, {});
    assert.equal(d.etagTimeout, 10);
    assert.equal(d.downloadTimeout, 10);
    const o = resolveHubOptions({}, { HF_HUB_ETAG_TIMEOUT: '2.5', HF_HUB_DOWNLOAD_TIMEOUT: '60' });
    assert.equal(o.etagTimeout, 2.5);
    assert.equal(o.downloadTimeout, 60);
    assert.throws(() => resolveHubOptions({}, { HF_HUB_ETAG_TIMEOUT: 'soon' }), /HF_HUB_ETAG_TIMEOUT must be a positive number/);
    assert.throws(() => resolveHubOptions({}, { HF_HUB_DOWNLOAD_TIMEOUT: '0' }), /HF_HUB_DOWNLOAD_TIMEOUT/);
  });

  it('parses Link headers as RFC 8288 has them', () => {
    assert.equal(nextLink('<https://h/a?cursor=2>; rel="next"'), 'https://h/a?cursor=2');
    assert.equal(nextLink('<https://h/p>; rel="prev", <https://h/n>; rel="next"'), 'https://h/n');
    assert.equal(nextLink('<https://h/p>; rel="prev"'), undefined);
    assert.equal(nextLink(null), undefined);
  });
});
