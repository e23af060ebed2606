/**
 * The viewer's JSON API and its safety, through real HTTP requests to a running server: datasets
 * found (and links out of the folder ignored), paging, a sample's top-k decoded, summaries equal to
 * their definition, evaluation equal to `entropylens evaluate --json`, traversal attempts, host
 * check, body limits, bad options worded as the CLI words them, the live queue (429 when full,
 * clients that go away give their place up) and the time limit.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mergeDataset, ResultsWriter, shardFiles, type ResultRowInput } from '../../src/store/index.js';
import { TextTokenizer } from '../../src/tokenizer/index.js';
import { assetPath } from '../../src/util/package.js';
import { tokenLabel } from '../../src/web/token-text.js';
import { startViewer, type Viewer } from '../../src/web/server.js';
import type { CompareSample, DatasetInfo, EvaluateResult, LiveInfo, LiveStep, ProfileDocument, SampleDetail, SamplesPage, Summary } from '../../src/web/api-types.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { rawRequest } from '../helpers/viewer.js';

const MODEL = assetPath('demo-model');
const STEPS = 3;
const LAYERS = 4;
const K = 3;
const TASKS = ['alpha', 'beta', 'gamma'];
const SECRET = 'TOP-SECRET-MARKER-7f3a';

let root: string;
let viewer: Viewer;

/** Deterministic values: task shifts the level, sample and position vary it. */
function valuesOf(i: number, shift = 0): number[] {
  return Array.from({ length: STEPS * LAYERS }, (_, j) => 1 + (i % 3) + Math.sin(i * 7 + j) / 2 + j / 10 + shift);
}

function rows(n: number, opts: { tokens: boolean; shift?: number }): ResultRowInput[] {
  return Array.from({ length: n }, (_, i) => ({
    sample_id: `s${i}`,
    metric: 'shannon',
    labels: { task: TASKS[i % 3] },
    prompt: `prompt number ${i}`,
    completion: ` completion ${i}`,
    n_steps: STEPS,
    n_layers: LAYERS,
    values: valuesOf(i, opts.shift ?? 0),
    ...(opts.tokens
      ? {
          tokens: {
            generated_ids: Array.from({ length: STEPS }, (_, t) => 100 + t + i),
            topk_ids: Array.from({ length: STEPS * LAYERS * K }, (_, j) => (37 * i + 11 * j) % 1024),
            topk_probs: Array.from({ length: STEPS * LAYERS * K }, (_, j) => 0.5 / (1 + (j % K))),
          },
        }
      : {}),
  }));
}

async function write(dir: string, model: string, data: ResultRowInput[], topK = 0): Promise<void> {
  const w = await ResultsWriter.open(dir, { model, experiment: 'tinystories', labelColumns: { task: 'string' }, topK });
  await w.appendShard(data.slice(0, 20));
  if (data.length > 20) await w.appendShard(data.slice(20));
  await w.finish();
}

async function get<T>(p: string): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(p, viewer.url));
  return { status: res.status, body: (await res.json()) as T };
}

before(async () => {
  root = tempDir('el-viewer-api-');
  const runs = path.join(root, 'runs');
  await write(path.join(runs, 'a'), MODEL, rows(30, { tokens: true }), K);
  await write(path.join(runs, 'nested', 'b'), 'other-model', rows(30, { tokens: false, shift: 0.25 }));
  // Outside the folder given: a dataset and a secret, reachable only through a symlink.
  const outside = path.join(root, 'outside');
  await write(path.join(outside, 'escape'), 'm', rows(3, { tokens: false }));
  fs.writeFileSync(path.join(outside, 'secret.txt'), SECRET);
  fs.symlinkSync(path.join(outside, 'escape'), path.join(runs, 'escape'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(runs, 'a', 'secret.txt'));
  viewer = await startViewer({
    paths: [runs],
    port: 0,
    timeoutMs: 60_000,
    live: { model: MODEL, cacheDir: path.join(root, 'cache'), maxQueue: 2, timeoutMs: 60_000, maxNewTokens: 64, maxPromptChars: 2000 },
  });
});
after(async () => {
  await viewer?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('viewer API', () => {
  it('lists the datasets below the folder by relative name, not the one a symlink leads out to', async () => {
    const { status, body } = await get<DatasetInfo[]>('/api/datasets');
    assert.equal(status, 200);
    assert.deepEqual(body.map((d) => d.name).sort(), ['a', 'nested/b']);
    const a = body.find((d) => d.name === 'a')!;
    assert.equal(a.samples, 30);
    assert.equal(a.top_k, K);
    assert.equal(a.complete, true);
    assert.equal(a.n_steps, STEPS);
    assert.equal(a.n_layers, LAYERS);
    assert.deepEqual(a.metrics, ['shannon']);
    assert.equal(a.labels.task, 'string');
    assert.equal(a.tokenizer, MODEL);
  });

  it('pages samples and filters them by label value', async () => {
    const p = await get<SamplesPage>('/api/datasets/a/samples?offset=5&limit=4');
    assert.equal(p.body.total, 30);
    assert.deepEqual(p.body.samples.map((s) => s.sample_id), ['s5', 's6', 's7', 's8']);
    const f = await get<SamplesPage>('/api/datasets/a/samples?label=task&values=beta&limit=100');
    assert.equal(f.body.total, 10);
    assert.ok(f.body.samples.every((s) => s.labels.task === 'beta'));
    assert.equal((await get('/api/datasets/a/samples?limit=501')).status, 400);
  });

  it('serves one sample with its values and its top-k ids decoded by the model\'s tokenizer', async () => {
    const { body: s } = await get<SampleDetail>('/api/datasets/a/samples/s4');
    const want = rows(30, { tokens: true })[4];
    assert.equal(s.n_steps, STEPS);
    assert.deepEqual(s.values.flat(), Array.from(Float32Array.from(want.values)));
    const tok = TextTokenizer.load(MODEL)!;
    assert.deepEqual(s.topk!.ids.flat(2), Array.from(want.tokens!.topk_ids));
    assert.deepEqual(s.topk!.tokens.flat(2), Array.from(want.tokens!.topk_ids, (id) => tok.decode([id])));
    assert.deepEqual(s.generated!.ids, Array.from(want.tokens!.generated_ids));
    assert.equal(tokenLabel('a\nb', 5), 'a↵b');
    const missing = await get<{ error: string }>('/api/datasets/a/samples/nope');
    assert.equal(missing.status, 404);
    const b = await get<SampleDetail>(`/api/datasets/${encodeURIComponent('nested/b')}/samples/s4`);
    assert.equal(b.body.topk, undefined, 'a dataset without top-k has no tokens');
  });

  it('summarises per label value: mean and 95% band per layer and per step × layer, as defined', async () => {
    const { body } = await get<Summary>('/api/datasets/a/summary?metric=shannon&label=task');
    assert.deepEqual(body.groups.map((g) => g.value), TASKS);
    const members = rows(30, { tokens: false }).filter((_, i) => i % 3 === 1);
    const g = body.groups[1];
    assert.equal(g.n, 10);
    for (let l = 0; l < LAYERS; l++) {
      // each sample's mean over steps (float32 storage), then mean ± 1.96·sd/√n over samples
      const x = members.map((m) => {
        const v = Float32Array.from(m.values);
        let s = 0;
        for (let t = 0; t < STEPS; t++) s += v[t * LAYERS + l];
        return s / STEPS;
      });
      const mean = x.reduce((a, b) => a + b, 0) / x.length;
      const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1));
      assert.ok(Math.abs(g.profile.mean[l]! - mean) < 1e-6, `layer ${l} mean`);
      assert.ok(Math.abs(g.profile.hi[l]! - (mean + (1.96 * sd) / Math.sqrt(x.length))) < 1e-6, `layer ${l} band`);
    }
    const step1layer2 = members.reduce((a, m) => a + Math.fround(m.values[1 * LAYERS + 2]), 0) / members.length;
    assert.ok(Math.abs(g.matrix.mean[1 * LAYERS + 2]! - step1layer2) < 1e-6);
    const w = await get<Summary>('/api/datasets/a/summary?label=task&windows=1&values=alpha,gamma');
    assert.equal(w.body.n_steps, 1);
    assert.deepEqual(w.body.groups.map((x) => x.value), ['alpha', 'gamma']);
    assert.deepEqual(w.body.groups[0].matrix.mean, body.groups[0].profile.mean, 'one window is the mean over steps');
    const bad = await get<{ error: string }>('/api/datasets/a/summary?windows=2');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /--windows 2 does not divide the 3 stored steps/);
    assert.match((await get<{ error: string }>('/api/datasets/a/summary?label=colour')).body.error, /no label column 'colour'/);
  });

  it('evaluates as entropylens evaluate --json does, to the last digit', async () => {
    const { status, body } = await get<EvaluateResult>('/api/datasets/a/evaluate?label=task&k=5&folds=3&seed=7');
    assert.equal(status, 200);
    const cli = runCli(['evaluate', path.join(root, 'runs', 'a'), '--label', 'task', '--k', '5', '--folds', '3', '--seed', '7', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(body.overall, JSON.parse(cli.stdout).overall);
    assert.match(body.text, /ROC-AUC/);
  });

  it('draws a PCA map of every sample, and a t-SNE on demand', async () => {
    const pca = await get<{ points: { sample_id: string; label: string }[]; axis: string[]; total: number }>('/api/datasets/a/map?label=task');
    assert.equal(pca.body.total, 30);
    assert.equal(pca.body.points.length, 30);
    assert.match(pca.body.axis[0], /^PC1 \(\d+\.\d% of variance\)$/);
    const tsne = await get<{ points: unknown[]; note: string }>('/api/datasets/a/map?label=task&method=tsne');
    assert.equal(tsne.status, 200);
    assert.equal(tsne.body.points.length, 30);
    assert.match(tsne.body.note, /t-SNE/);
  });

  it('compares datasets: shared samples and their difference', async () => {
    const c = await get<{ shared_total: number; datasets: { name: string }[] }>(`/api/compare?datasets=a,${encodeURIComponent('nested/b')}`);
    assert.equal(c.body.shared_total, 30);
    const d = await get<CompareSample>(`/api/compare/sample?datasets=a,${encodeURIComponent('nested/b')}&sample_id=s2`);
    assert.equal(d.body.x, 'layer');
    const flat = d.body.diff.flat();
    assert.equal(flat.length, STEPS * LAYERS);
    for (const v of flat) assert.ok(Math.abs(v - 0.25) < 1e-5, `difference ${v}`);
  });

  it('follows a run while it is written: a missing shard, the shard that completes it, a merge', async () => {
    const dir = path.join(root, 'growing', 'run');
    const data = rows(4, { tokens: true });
    const shard = async (index: number): Promise<void> => {
      const mine = data.filter((_, i) => i % 2 === index);
      const w = await ResultsWriter.open(dir, { model: MODEL, experiment: 'tinystories', labelColumns: { task: 'string' }, topK: K, shard: { index, count: 2 }, targets: mine.map((r) => r.sample_id) });
      await w.appendShard(mine);
      await w.finish();
    };
    await shard(0);
    const v = await startViewer({ paths: [path.join(root, 'growing')], port: 0, refreshMs: 0 });
    try {
      const info = async (): Promise<DatasetInfo> => ((await (await fetch(new URL('/api/datasets/run', v.url))).json()) as DatasetInfo);
      let i = await info();
      assert.deepEqual([i.samples, i.complete, i.progress], [2, false, '1 of 2 shards complete']);
      await shard(1);
      i = await info();
      assert.deepEqual([i.samples, i.complete, i.progress], [4, true, '2 of 2 shards complete']);
      const sample = async (): Promise<SampleDetail> => (await (await fetch(new URL('/api/datasets/run/samples/s3', v.url))).json()) as SampleDetail;
      assert.deepEqual((await sample()).topk!.ids.flat(2), Array.from(data[3].tokens!.topk_ids));
      // a merge replaces the part files the rows were read from: the viewer reads the new ones
      const before = await shardFiles(dir);
      await mergeDataset(dir);
      assert.notDeepEqual(await shardFiles(dir), before);
      assert.deepEqual((await sample()).topk!.ids.flat(2), Array.from(data[3].tokens!.topk_ids));
    } finally {
      await v.close();
    }
  });
});

describe('viewer safety', () => {
  it('answers traversal attempts with 404 and never a file', async () => {
    const attempts = [
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/assets/../../package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/assets/..\\..\\package.json',
      '/assets/%2fetc%2fpasswd',
      '//etc/passwd',
      '/assets//etc/passwd',
      '/\\etc\\passwd',
      '/C:%5cWindows%5cwin.ini',
      '/datasets/..%2f..%2f..%2fetc%2fpasswd',
      '/datasets/escape',
      '/datasets/a/secret.txt',
      '/datasets/a/samples/..%2f..%2fsecret.txt',
      '/api/datasets/..%2f..%2foutside%2fescape/samples',
      '/api/datasets/%2e%2e/summary',
      '/api/datasets/escape/samples',
      '/api/datasets/a/samples/..%2fsecret.txt',
      '/api/datasets/a/secret.txt',
      '/api/datasets/a/..%2f..%2foutside%2fsecret.txt',
      '/manifest.json',
      '/a/manifest.json',
      '/a/part-00000.parquet',
      '/dist/src/web/app.js',
      ...(await shardFiles(path.join(root, 'runs', 'a'))).flatMap((f) => [`/a/${f}`, `/datasets/a/${f}`, `/api/datasets/a/${f}`, `/api/datasets/a/samples/${f}`]),
    ];
    for (const p of attempts) {
      const r = await rawRequest(viewer.port, p);
      assert.equal(r.status, 404, `${p} → ${r.status}`);
      assert.ok(!r.body.includes(SECRET) && !r.body.includes('root:') && !r.body.includes('"dependencies"') && !r.body.includes('PAR1'), `${p} leaked: ${r.body.slice(0, 200)}`);
    }
  });

  it('sends its CSP and refuses other Host headers (DNS rebinding)', async () => {
    const page = await rawRequest(viewer.port, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-security-policy'], /script-src 'self'/);
    assert.doesNotMatch(page.headers['content-security-policy'], /unsafe/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const other = await rawRequest(viewer.port, '/api/datasets', { host: 'attacker.example:80' });
    assert.equal(other.status, 403);
  });

  it('refuses oversized bodies and prompts with 413 and a JSON error', async () => {
    const big = JSON.stringify({ prompt: 'x'.repeat(70 * 1024) });
    const r = await rawRequest(viewer.port, '/api/profile', { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 413);
    assert.ok(JSON.parse(r.body).error);
    const long = await rawRequest(viewer.port, '/api/profile', { method: 'POST', body: JSON.stringify({ prompt: 'y'.repeat(2001) }), headers: { 'content-type': 'application/json' } });
    assert.equal(long.status, 413);
    assert.match(JSON.parse(long.body).error, /2001 characters; the viewer takes at most 2000/);
  });

  it('answers bad JSON and bad options with 400 and the message the CLI prints', async () => {
    const post = (body: string) => rawRequest(viewer.port, '/api/profile', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const badJson = await post('{"prompt": "x",');
    assert.equal(badJson.status, 400);
    assert.match(JSON.parse(badJson.body).error, /JSON/);
    const cases: [Record<string, unknown>, string[]][] = [
      [{ prompt: 'x', max_new_tokens: 0 }, ['--max-new-tokens', '0']],
      [{ prompt: 'x', temperature: -1 }, ['--temperature', '-1']],
      [{ prompt: 'x', metrics: 'entropy-ish' }, ['--metrics', 'entropy-ish']],
      [{ prompt: 'x', scale_block: ['3'] }, ['--scale-block', '3']],
      [{ prompt: 'x', top_k: 1.5 }, ['--top-k', '1.5']],
    ];
    for (const [body, flags] of cases) {
      const r = await post(JSON.stringify(body));
      assert.equal(r.status, 400, JSON.stringify(body));
      const cli = runCli(['profile', MODEL, '--prompt', 'x', ...flags]);
      assert.equal(cli.code, 1);
      assert.equal(`entropylens: ${JSON.parse(r.body).error}`, cli.stderr.trim(), JSON.stringify(body));
    }
  });

  it('streams a live profile step by step; the last event is exactly profile --json', async () => {
    const res = await fetch(new URL('/api/profile', viewer.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ prompt: 'The dog ran', max_new_tokens: 7, top_k: 3, metrics: 'shannon,renyi:0.5', temperature: 0.8, seed: 5 }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const events = (await res.text()).trim().split('\n\n').map((b) => ({ event: /^event: (.*)$/m.exec(b)![1], data: JSON.parse(/^data: (.*)$/m.exec(b)![1]) as Record<string, unknown> }));
    const steps = events.filter((e) => e.event === 'step').map((e) => e.data as unknown as LiveStep);
    assert.deepEqual(steps.map((x) => x.step), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(events.slice(-2).map((e) => e.event), ['tokens', 'result']);
    const doc = events.at(-1)!.data as unknown as ProfileDocument;
    const cli = runCli(['profile', MODEL, '--prompt', 'The dog ran', '--max-new-tokens', '7', '--top-k', '3', '--metrics', 'shannon,renyi:0.5', '--temperature', '0.8', '--seed', '5', '--json', '--cache-dir', path.join(root, 'cache')]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(doc.results, (JSON.parse(cli.stdout) as ProfileDocument).results);
    // the steps sent on the way carry the same tokens; their numbers come from the shorter runs
    const r = doc.results[0];
    assert.deepEqual(steps.map((x) => x.token_id), r.generated_ids);
    let worst = 0;
    steps.forEach((x, t) => x.metrics.shannon.forEach((v, l) => (worst = Math.max(worst, Math.abs(v - r.metrics.shannon[t][l])))));
    // Runs of other lengths have KV caches of other sizes: float32 rounding only (2e-6 nats here), within the engine's parity bound.
    assert.ok(worst <= 1e-4, `step previews differ from the final profile by ${worst}`);
  });

  it('runs one model call at a time: a flood gets 429 beyond the queue, and the server still answers', async () => {
    const body = JSON.stringify({ prompt: 'Once upon a time there was a dog', max_new_tokens: 64, top_k: 5 });
    const flood = Array.from({ length: 8 }, () => fetch(new URL('/api/profile', viewer.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
    const during = await get<DatasetInfo[]>('/api/datasets');
    assert.equal(during.status, 200, 'GET /api/datasets while the model is busy');
    const answers = await Promise.all(flood);
    const codes = answers.map((r) => r.status);
    const refused = answers.filter((r) => r.status === 429);
    assert.ok(refused.length >= 1, `statuses ${codes}`);
    assert.ok(codes.every((c) => c === 200 || c === 429), `statuses ${codes}`);
    assert.ok(codes.filter((c) => c === 200).length >= 3, `one running and two queued succeed: ${codes}`);
    const texts = await Promise.all(answers.map((r) => r.text()));
    assert.match((JSON.parse(texts[codes.indexOf(429)]) as { error: string }).error, /busy/);
    assert.equal((await get<DatasetInfo[]>('/api/datasets')).status, 200);
  });

  it('drops a queued request whose client went away', async () => {
    const url = new URL('/api/profile', viewer.url);
    const long = JSON.stringify({ prompt: 'The little bird sang a song about the sea and the sky and the tall green trees', max_new_tokens: 64, top_k: 5 });
    const live = () => get<LiveInfo>('/api/live').then((r) => r.body);
    const before = await live();
    const first = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: long });
    const ac = new AbortController();
    const second = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: long, signal: ac.signal }).catch((e: Error) => e);
    for (let i = 0; i < 200 && (await live()).queued < 1; i++) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    let now = await live();
    for (let i = 0; i < 200 && now.dropped === before.dropped; i++) now = (await new Promise((r) => setTimeout(r, 5)), await live());
    assert.equal(now.dropped, before.dropped + 1, 'the waiting request was dropped');
    assert.equal(now.queued, 0);
    assert.equal((await first).status, 200);
    assert.equal(((await second) as Error).name, 'AbortError');
  });

  it('stops a live run at its time limit', async () => {
    const quick = await startViewer({ paths: [path.join(root, 'runs', 'a')], port: 0, live: { model: MODEL, cacheDir: path.join(root, 'cache'), maxQueue: 1, timeoutMs: 1, maxNewTokens: 64, maxPromptChars: 100 } });
    try {
      const r = await fetch(new URL('/api/profile', quick.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'Once', max_new_tokens: 8 }) });
      assert.equal(r.status, 503);
      assert.match(((await r.json()) as { error: string }).error, /longer than the viewer's limit/);
    } finally {
      await quick.close();
    }
  });

  it('has no live profiling without --model: POST /api/profile is 404', async () => {
    const plain = await startViewer({ paths: [path.join(root, 'runs', 'a')], port: 0 });
    try {
      const r = await fetch(new URL('/api/profile', plain.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x' }) });
      assert.equal(r.status, 404);
      assert.match(((await r.json()) as { error: string }).error, /--model/);
    } finally {
      await plain.close();
    }
  });
});
