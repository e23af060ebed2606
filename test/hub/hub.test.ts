import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  defaultHubCacheDir,
  downloadToCache,
  listRepoFiles,
  resolveDatasetFiles,
  resolveHubOptions,
  resolveModelDir,
} from '../../src/hub/index.js';
import { rejectsUser } from '../helpers/rejects-user.js';
import { gitBlobSha, sha256, startFakeHub, type FakeHub } from '../helpers/fake-hub.js';

for (const k of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT']) delete process.env[k];

const MODEL = 'fake-org/tiny-model';
const SHARDED = 'fake-org/sharded-model';
const GATED = 'fake-org/gated-model';
const NO_TOK = 'fake-org/no-tokenizer';
const STORIES = 'fake-org/tiny-stories';
const MMLU = 'fake-org/tiny-mmlu';

// Synthetic bytes: big enough that a dropped connection really leaves a partial file.
const weights = randomBytes(300_000);
const shard1 = randomBytes(50_000);
const shard2 = randomBytes(40_000);
const config = JSON.stringify({ model_type: 'gpt2', n_layer: 2 });
const tokenizer = JSON.stringify({ version: '1.0', model: { type: 'BPE' } });

let hub: FakeHub;
let cacheDir: string;

before(async () => {
  hub = await startFakeHub([
    {
      type: 'model',
      id: MODEL,
      files: [
        { path: 'config.json', content: config },
        { path: 'generation_config.json', content: '{"do_sample":false}' },
        { path: 'tokenizer.json', content: tokenizer },
        { path: 'tokenizer_config.json', content: '{"bos_token":"<s>"}' },
        { path: 'README.md', content: '# tiny' },
        { path: 'model.safetensors', content: weights, lfs: true },
        { path: 'pytorch_model.bin', content: randomBytes(1000), lfs: true },
      ],
    },
    {
      type: 'model',
      id: SHARDED,
      files: [
        { path: 'config.json', content: config },
        { path: 'tokenizer.json', content: tokenizer },
        {
          path: 'model.safetensors.index.json',
          content: JSON.stringify({
            metadata: { total_size: 90_000 },
            weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' },
          }),
        },
        { path: 'model-00001-of-00002.safetensors', content: shard1, lfs: true },
        { path: 'model-00002-of-00002.safetensors', content: shard2, lfs: true },
      ],
    },
    {
      type: 'model',
      id: GATED,
      gatedToken: 'hf_fake_token',
      files: [
        { path: 'config.json', content: config },
        { path: 'tokenizer.json', content: tokenizer },
        { path: 'model.safetensors', content: shard2, lfs: true },
      ],
    },
    {
      type: 'model',
      id: NO_TOK,
      files: [
        { path: 'config.json', content: config },
        { path: 'model.safetensors', content: shard2, lfs: true },
      ],
    },
    {
      type: 'dataset',
      id: STORIES,
      files: [
        { path: 'README.md', content: '---\nlicense: cdla\n---' },
        { path: 'TinyStories-valid.txt', content: 'One.\n<|endoftext|>\nTwo.\n', lfs: true },
        { path: 'TinyStories-train.txt', content: 'Three.\n', lfs: true },
        { path: 'data/train-00000-of-00002-aaaa.parquet', content: randomBytes(500), lfs: true },
        { path: 'data/train-00001-of-00002-bbbb.parquet', content: randomBytes(500), lfs: true },
        { path: 'data/validation-00000-of-00001-cccc.parquet', content: randomBytes(700), lfs: true },
      ],
    },
    {
      type: 'dataset',
      id: MMLU,
      files: [
        { path: 'README.md', content: '# mmlu' },
        { path: 'abstract_algebra/test-00000-of-00001.parquet', content: randomBytes(300), lfs: true },
        { path: 'all/auxiliary_train-00000-of-00001.parquet', content: randomBytes(300), lfs: true },
        { path: 'all/dev-00000-of-00001.parquet', content: randomBytes(300), lfs: true },
        { path: 'all/test-00000-of-00001.parquet', content: randomBytes(800), lfs: true },
        { path: 'all/validation-00000-of-00001.parquet', content: randomBytes(300), lfs: true },
      ],
    },
  ]);
});

after(async () => {
  await hub.close();
});

beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'el-hub-'));
  hub.requests.length = 0;
});

const opts = () => ({ cacheDir, endpoint: hub.url });


describe('resolveModelDir from the hub', () => {
  it('downloads into the HF cache layout (blobs, snapshots/<commit>, refs/main)', async () => {
    const dir = await resolveModelDir(MODEL, opts());
    const commit = hub.commitOf('model', MODEL);
    const root = join(cacheDir, 'models--fake-org--tiny-model');
    assert.equal(dir, join(root, 'snapshots', commit));
    assert.equal(await readFile(join(root, 'refs', 'main'), 'utf8'), commit);
    assert.deepEqual(await readFile(join(dir, 'model.safetensors')), weights);
    assert.equal(await readFile(join(dir, 'config.json'), 'utf8'), config);
    assert.equal(await readFile(join(dir, 'generation_config.json'), 'utf8'), '{"do_sample":false}');
    assert.equal(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'), '{"bos_token":"<s>"}');
    // As huggingface_hub: relative links, LFS blobs named by sha256, small files by git blob sha1.
    assert.ok((await lstat(join(dir, 'model.safetensors'))).isSymbolicLink());
    assert.equal(await readlink(join(dir, 'model.safetensors')), join('..', '..', 'blobs', sha256(weights)));
    assert.equal(await readlink(join(dir, 'config.json')), join('..', '..', 'blobs', gitBlobSha(Buffer.from(config))));
    // Files the engine does not need are left alone.
    await assert.rejects(lstat(join(dir, 'pytorch_model.bin')));
    await assert.rejects(lstat(join(dir, 'README.md')));
  });

  it('serves a second call from the cache without any request', async () => {
    const first = await resolveModelDir(MODEL, opts());
    const n = hub.requests.length;
    assert.ok(n > 0);
    const second = await resolveModelDir(MODEL, opts());
    assert.equal(second, first);
    assert.equal(hub.requests.length, n);
  });

  it('downloads every shard named by a safetensors index', async () => {
    const dir = await resolveModelDir(SHARDED, opts());
    assert.deepEqual(await readFile(join(dir, 'model-00001-of-00002.safetensors')), shard1);
    assert.deepEqual(await readFile(join(dir, 'model-00002-of-00002.safetensors')), shard2);
    const before = hub.requests.length;
    await resolveModelDir(SHARDED, opts());
    assert.equal(hub.requests.length, before);
  });

  it('resumes with a Range request when the connection drops mid-file', async () => {
    hub.dropOnce('model', MODEL, 'model.safetensors', 120_000);
    const dir = await resolveModelDir(MODEL, opts());
    assert.deepEqual(await readFile(join(dir, 'model.safetensors')), weights);
    const gets = hub.requestsMatching(new RegExp(`/cdn/${sha256(weights)}`)).filter((r) => r.method === 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[0]!.range, undefined);
    // it resumes from the bytes it kept: all 120,000 sent, or fewer when the HTTP client dropped
    // chunks it had not handed over yet when the connection closed (under load: 65,347)
    const start = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
    assert.ok(start > 0 && start <= 120_000, `resumed at ${gets[1]!.range}`);
  });

  it('resumes the .incomplete file a killed run left behind', async () => {
    const blob = join(cacheDir, 'models--fake-org--tiny-model', 'blobs', sha256(weights));
    await mkdir(join(blob, '..'), { recursive: true });
    await writeFile(`${blob}.incomplete`, weights.subarray(0, 77_777));
    const dir = await resolveModelDir(MODEL, opts());
    assert.deepEqual(await readFile(join(dir, 'model.safetensors')), weights);
    const gets = hub.requestsMatching(/\/cdn\//).filter((r) => r.method === 'GET');
    assert.deepEqual(gets.map((r) => r.range), ['bytes=77777-']);
    await assert.rejects(lstat(`${blob}.incomplete`));
  });

  it('discards a partial file whose bytes do not match the sha256', async () => {
    const blob = join(cacheDir, 'models--fake-org--tiny-model', 'blobs', sha256(weights));
    await mkdir(join(blob, '..'), { recursive: true });
    await writeFile(`${blob}.incomplete`, Buffer.alloc(1000, 7));
    await rejectsUser(resolveModelDir(MODEL, opts()), 'sha256', 'run the command again');
    // The next run starts over and succeeds.
    const dir = await resolveModelDir(MODEL, opts());
    assert.deepEqual(await readFile(join(dir, 'model.safetensors')), weights);
  });

  it('names the repo and what to do when the repo does not exist', async () => {
    await rejectsUser(resolveModelDir('fake-org/no-such-model', opts()), 'fake-org/no-such-model', 'check the id', 'HF_TOKEN');
  });

  it('names the file and the repo when a file does not exist', async () => {
    const o = resolveHubOptions(opts());
    await rejectsUser(downloadToCache(o, 'model', MODEL, 'nope.json'), 'nope.json', MODEL, 'not found');
  });

  it('reads the hub error headers on /resolve/ (unknown repo, unknown revision)', async () => {
    const o = resolveHubOptions(opts());
    await rejectsUser(downloadToCache(o, 'model', 'fake-org/ghost', 'config.json'), 'fake-org/ghost', 'check the id', 'HF_TOKEN');
    await rejectsUser(downloadToCache(o, 'model', MODEL, 'config.json', 'nope-branch'), 'nope-branch', '--revision');
    await rejectsUser(downloadToCache(o, 'dataset', 'fake-org/ghost', 'x.parquet'), 'dataset repo fake-org/ghost');
  });

  it('says which file a model lacks', async () => {
    await rejectsUser(resolveModelDir(NO_TOK, opts()), NO_TOK, 'tokenizer.json');
  });

  it('explains gated repos, and passes HF_TOKEN as a bearer token', async () => {
    await rejectsUser(resolveModelDir(GATED, opts()), 'gated', 'HF_TOKEN', GATED);
    process.env['HF_TOKEN'] = 'hf_fake_token';
    try {
      const dir = await resolveModelDir(GATED, opts());
      assert.deepEqual(await readFile(join(dir, 'model.safetensors')), shard2);
    } finally {
      delete process.env['HF_TOKEN'];
    }
    // The pre-signed CDN URL must not receive the token.
    for (const r of hub.requestsMatching(/\/cdn\//)) assert.equal(r.authorization, undefined);
  });

  it('reports an unknown revision', async () => {
    await rejectsUser(resolveModelDir(MODEL, { ...opts(), revision: 'v9' }), 'v9', 'revision');
  });

  it('fails clearly in offline mode without a cache, and works offline from the cache', async () => {
    process.env['HF_HUB_OFFLINE'] = '1';
    try {
      await rejectsUser(resolveModelDir(MODEL, opts()), MODEL, 'HF_HUB_OFFLINE', cacheDir);
      assert.equal(hub.requests.length, 0);
    } finally {
      delete process.env['HF_HUB_OFFLINE'];
    }
    const dir = await resolveModelDir(MODEL, opts());
    const n = hub.requests.length;
    assert.equal(await resolveModelDir(MODEL, { ...opts(), offline: true }), dir);
    assert.equal(hub.requests.length, n);
  });

  it('uses a cache written by Python (relative links into blobs, refs/main) without the network', async () => {
    const root = join(cacheDir, 'models--someone--py-model');
    const commit = 'a'.repeat(40);
    const snap = join(root, 'snapshots', commit);
    await mkdir(join(root, 'blobs'), { recursive: true });
    await mkdir(snap, { recursive: true });
    await mkdir(join(root, 'refs'), { recursive: true });
    await writeFile(join(root, 'refs', 'main'), commit);
    for (const [name, body] of [['config.json', config], ['tokenizer.json', tokenizer], ['model.safetensors', 'x']] as const) {
      const etag = gitBlobSha(Buffer.from(body));
      await writeFile(join(root, 'blobs', etag), body);
      await symlink(join('..', '..', 'blobs', etag), join(snap, name));
    }
    assert.equal(await resolveModelDir('someone/py-model', { cacheDir, endpoint: 'http://127.0.0.1:9' }), snap);
    assert.equal(hub.requests.length, 0);
  });

  it('downloads again when a cached blob was deleted (dangling link)', async () => {
    const dir = await resolveModelDir(MODEL, opts());
    await rm(join(cacheDir, 'models--fake-org--tiny-model', 'blobs', sha256(weights)));
    hub.requests.length = 0;
    assert.equal(await resolveModelDir(MODEL, opts()), dir);
    assert.deepEqual(await readFile(join(dir, 'model.safetensors')), weights);
    assert.ok(hub.requests.length > 0);
  });
});

describe('resolveModelDir with a local folder', () => {
  it('returns a folder with config.json as is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'el-model-'));
    await writeFile(join(dir, 'config.json'), config);
    assert.equal(await resolveModelDir(dir), dir);
  });

  it('rejects a folder without config.json, a file, and a missing path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'el-model-'));
    await rejectsUser(resolveModelDir(dir), dir, 'config.json');
    await writeFile(join(dir, 'x.bin'), 'x');
    await rejectsUser(resolveModelDir(join(dir, 'x.bin')), 'is a file');
    await rejectsUser(resolveModelDir('./definitely/not/here'), 'does not exist');
  });
});

describe('resolveDatasetFiles', () => {
  it('picks the validation parquet of TinyStories-like layouts and caches it', async () => {
    const files = await resolveDatasetFiles(STORIES, { ...opts(), split: 'validation' });
    const commit = hub.commitOf('dataset', STORIES);
    assert.deepEqual(files, [
      join(cacheDir, 'datasets--fake-org--tiny-stories', 'snapshots', commit, 'data', 'validation-00000-of-00001-cccc.parquet'),
    ]);
    assert.deepEqual(await readFile(files[0]!), hub.file('dataset', STORIES, 'data/validation-00000-of-00001-cccc.parquet').content);
    const n = hub.requests.length;
    assert.deepEqual(await resolveDatasetFiles(STORIES, { ...opts(), split: 'validation' }), files);
    assert.equal(hub.requests.length, n);
  });

  it('picks every shard of a split', async () => {
    const files = await resolveDatasetFiles(STORIES, { ...opts(), split: 'train' });
    assert.deepEqual(
      files.map((f) => f.split('/').slice(-2).join('/')),
      ['data/train-00000-of-00002-aaaa.parquet', 'data/train-00001-of-00002-bbbb.parquet'],
    );
  });

  it('picks the config folder and split of MMLU-like layouts', async () => {
    const files = await resolveDatasetFiles(MMLU, { ...opts(), config: 'all', split: 'test' });
    assert.equal(files.length, 1);
    assert.ok(files[0]!.endsWith(join('all', 'test-00000-of-00001.parquet')));
  });

  it('names the configs found when the config does not exist', async () => {
    await rejectsUser(resolveDatasetFiles(MMLU, { ...opts(), config: 'nope', split: 'test' }), 'nope', 'abstract_algebra', 'all');
  });

  it('reports an unknown dataset repo', async () => {
    await rejectsUser(resolveDatasetFiles('fake-org/nothing', { ...opts(), split: 'test' }), 'fake-org/nothing', 'check the id', 'HF_TOKEN');
  });

  it('offline without cache fails clearly', async () => {
    await rejectsUser(resolveDatasetFiles(STORIES, { ...opts(), split: 'validation', offline: true }), 'HF_HUB_OFFLINE', STORIES);
  });

  it('follows the tree API pagination', async () => {
    hub.pageSize = 2;
    try {
      const files = await listRepoFiles(resolveHubOptions(opts()), 'dataset', MMLU, 'main');
      assert.equal(files.length, 6);
      assert.ok(hub.requestsMatching(/cursor=/).length >= 2);
    } finally {
      hub.pageSize = 1000;
    }
  });
});

describe('hub options', () => {
  it('finds the cache as huggingface_hub does', () => {
    assert.equal(defaultHubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' }), '/a');
    assert.equal(defaultHubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/c' }), join('/b', 'hub'));
    assert.equal(defaultHubCacheDir({ XDG_CACHE_HOME: '/c' }), join('/c', 'huggingface', 'hub'));
  });

  it('reads HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE', () => {
    const o = resolveHubOptions({}, { HF_ENDPOINT: 'http://mirror.local/', HF_TOKEN: 't', HF_HUB_OFFLINE: 'true' });
    assert.equal(o.endpoint, 'http://mirror.local');
    assert.equal(o.token, 't');
    assert.equal(o.offline, true);
    const d = resolveHubOptions({}, {});
    assert.equal(d.endpoint, 'https://huggingface.co');
    assert.equal(d.offline, false);
    assert.equal(d.revision, 'main');
  });
});
