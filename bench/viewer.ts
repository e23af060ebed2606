/**
 * Load on the viewer's sample endpoint: `entropylens view` on a synthetic results dataset of
 * 20,000 samples (8 steps × 12 layers, top-5 tokens stored, shards of 1,000), then autocannon
 * with 50 connections for 10 s against GET /api/datasets/NAME/samples/ID over every sample in
 * turn; requests per second, p99 latency, and the server's RSS after. Baseline in the same run: a
 * bare node:http server answering a fixed response of the same size, under the same load.
 * Usage: node dist/bench/viewer.js [samples] [seconds] [connections]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { ResultsWriter, type ResultRowInput } from '../src/store/index.js';
import { assetPath } from '../src/util/package.js';
import { CLI } from '../test/helpers/run-cli.js';

const N = Number(process.argv[2] ?? 20000);
const SECONDS = Number(process.argv[3] ?? 10);
const CONNECTIONS = Number(process.argv[4] ?? 50);
const STEPS = 8;
const LAYERS = 12;
const K = 5;
const SHARD = 1000;

async function makeDataset(dir: string): Promise<void> {
  const w = await ResultsWriter.open(dir, { model: assetPath('demo-model'), experiment: 'tinystories', labelColumns: { task: 'string' }, topK: K });
  const tasks = ['continuation', 'counting', 'semantic'];
  for (let start = 0; start < N; start += SHARD) {
    const rows: ResultRowInput[] = [];
    for (let i = start; i < Math.min(N, start + SHARD); i++) {
      rows.push({
        sample_id: `s${i}`,
        metric: 'shannon',
        labels: { task: tasks[i % 3] },
        prompt: `Once upon a time, story ${i} had a prompt of about this length. How can the story be continued?`,
        completion: ` and then ${i}`,
        n_steps: STEPS,
        n_layers: LAYERS,
        values: Array.from({ length: STEPS * LAYERS }, (_, j) => 3 + Math.sin(i + j) - j / 40),
        tokens: {
          generated_ids: Array.from({ length: STEPS }, (_, t) => (i + t) % 1024),
          topk_ids: Array.from({ length: STEPS * LAYERS * K }, (_, j) => (i * 7 + j * 13) % 1024),
          topk_probs: Array.from({ length: STEPS * LAYERS * K }, (_, j) => 0.6 / (1 + (j % K))),
        },
      });
    }
    await w.appendShard(rows);
  }
  await w.finish();
}

function rssMb(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Starts a server process and resolves with its URL (the first line it prints). */
function start(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function load(url: string, paths: () => string): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths() }) }],
  });
}

function line(name: string, r: autocannon.Result, mem?: { rss: number; peak: number }): string {
  const errors = r.errors + r.non2xx;
  return `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms` +
    (errors ? `   ${errors} errors` : '') + (mem ? `   server RSS after ${mem.rss.toFixed(0)} MB (peak ${mem.peak.toFixed(0)} MB)` : '');
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-viewer-'));
try {
  console.log(`node ${process.version} on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${os.platform()} ${os.arch()}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  let t0 = performance.now();
  const dir = path.join(root, 'bench-dataset');
  await makeDataset(dir);
  console.log(`viewer: dataset of ${N} samples × ${STEPS} steps × ${LAYERS} layers with top-${K}, ${N / SHARD} shards, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  t0 = performance.now();
  const viewer = await start([CLI, 'view', dir, '--port', '0']);
  const ready = await fetch(new URL('/api/datasets', viewer.url));
  const info = (await ready.json()) as { samples: number }[];
  const loadSeconds = (performance.now() - t0) / 1000;
  const sampleUrl = (i: number): string => `/api/datasets/bench-dataset/samples/s${i}`;
  const one = await (await fetch(new URL(sampleUrl(0), viewer.url))).text();
  console.log(`viewer: up and dataset loaded in ${loadSeconds.toFixed(1)} s (${info[0].samples} samples); RSS ${rssMb(viewer.child.pid!).rss.toFixed(0)} MB; one sample response ${(one.length / 1024).toFixed(1)} KiB`);

  // Baseline: the same load on a bare node:http server that answers that response from memory.
  const bare = await start(['-e', `const b=Buffer.from(${JSON.stringify(one)});require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/json'});s.end(b)}).listen(0,'127.0.0.1',function(){console.log('http://127.0.0.1:'+this.address().port+'/')})`]);
  const base = await load(bare.url, () => '/');
  bare.child.kill();
  console.log(line('baseline: bare node:http, same body', base));

  let next = 0;
  const r = await load(viewer.url, () => sampleUrl(next++ % N));
  const mem = rssMb(viewer.child.pid!);
  console.log(line(`viewer: GET sample (${N} in turn)`, r, mem));
  console.log(`viewer / baseline: ${(r.requests.average / base.requests.average).toFixed(2)}× the requests per second (${CONNECTIONS} connections, ${SECONDS} s each; shared machine, compare within one run)`);
  await new Promise((resolve) => {
    viewer.child.once('exit', resolve);
    viewer.child.kill('SIGINT');
  });
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
