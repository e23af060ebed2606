/**
 * The viewer's HTTP server (fastify): the page's own files, the application's URLs, and the JSON
 * API under /api/ (README "The viewer's API"). Nothing else is served; every response carries a
 * Content-Security-Policy that allows only the page's own scripts.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { UserError } from '../util/errors.js';
import { intArg } from '../util/options.js';
import type { CompareResult, DatasetInfo, LiveInfo, LiveStep } from './api-types.js';
import type { Asset } from './bundle.js';
import type { ComputePool } from './compute.js';
import { sampleDifference, type SliceQuery, type ViewerDataset } from './dataset.js';
import type { DatasetSlot } from './slot.js';
import { HttpError } from './errors.js';
import type { LiveProfiler } from './live.js';

export interface AppOptions {
  datasets: Map<string, DatasetSlot>;
  /** Live profiling (view --model); absent: POST /api/profile is 404. */
  live?: Promise<LiveProfiler>;
  compute: ComputePool;
  bundle: { index: Asset; assets: Map<string, Asset> };
  /** Host headers accepted (DNS-rebinding guard while bound to loopback); undefined accepts any. */
  allowedHosts?: () => Set<string> | undefined;
  /** Largest request body in bytes (POST /api/profile). */
  bodyLimit: number;
}

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

type Query = Record<string, string | undefined>;

function intParam(q: Query, name: string, dflt: number, min: number, max: number): number {
  const v = q[name];
  if (v === undefined || v === '') return dflt;
  const n = intArg(v, name, min);
  if (n > max) throw new UserError(`${name} must be ≤ ${max}, got ${n}`);
  return n;
}

function listParam(v: string | undefined): string[] | undefined {
  if (v === undefined || v === '') return undefined;
  return v.split(',');
}

export async function createApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: o.bodyLimit, logger: false, routerOptions: { maxParamLength: 1000 }, return503OnClosing: true, forceCloseConnections: true });

  async function dataset(name: string): Promise<ViewerDataset> {
    const d = o.datasets.get(name);
    if (!d) throw new HttpError(404, `no dataset named '${name}'`);
    return d.get();
  }

  async function slice(d: ViewerDataset, q: Query): Promise<SliceQuery> {
    const windows = q.windows === undefined || q.windows === '' ? undefined : intArg(q.windows, '--windows', 1);
    return { metric: q.metric || d.defaultMetric(), label: q.label || d.defaultLabel(), windows, values: listParam(q.values) };
  }

  app.addHook('onRequest', async (req, reply) => {
    const hosts = o.allowedHosts?.();
    if (hosts && !hosts.has(String(req.headers.host ?? '').toLowerCase())) {
      reply.code(403).header('content-type', 'application/json; charset=utf-8');
      return reply.send({ error: `host '${req.headers.host ?? ''}' is not this viewer's address; open it through the address it printed` });
    }
  });
  app.addHook('onSend', async (req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    if (req.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setErrorHandler((err: unknown, _req, reply) => {
    const e = err as { statusCode?: number; message?: string };
    let status = 500;
    if (err instanceof HttpError) status = err.status;
    else if (err instanceof UserError) status = 400;
    else if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) status = e.statusCode;
    if (status === 500) process.stderr.write(`entropylens viewer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void reply.code(status).send({ error: status === 500 ? `internal error: ${e.message ?? String(err)}` : e.message ?? String(err) });
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send({ error: 'not found' });
  });

  // ---- the page
  const page = (reply: FastifyReply): FastifyReply => reply.type(o.bundle.index.type).send(o.bundle.index.body);
  app.get('/', async (_req, reply) => page(reply));
  app.get('/compare', async (_req, reply) => page(reply));
  app.get('/live', async (_req, reply) => page(reply));
  app.get<{ Params: { name: string } }>('/datasets/:name', async (req, reply) => {
    await dataset(req.params.name);
    return page(reply);
  });
  app.get<{ Params: { name: string; id: string } }>('/datasets/:name/samples/:id', async (req, reply) => {
    if (!(await dataset(req.params.name)).has(req.params.id)) throw new HttpError(404, `no sample '${req.params.id}'`);
    return page(reply);
  });
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const a = o.bundle.assets.get(req.params.file);
    if (!a) throw new HttpError(404, 'not found');
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  });

  // ---- the API
  app.get('/api/datasets', async (): Promise<DatasetInfo[]> => Promise.all([...o.datasets.values()].map(async (d) => (await d.get()).info())));
  app.get<{ Params: { name: string } }>('/api/datasets/:name', async (req) => (await dataset(req.params.name)).info());
  app.get<{ Params: { name: string }; Querystring: Query }>('/api/datasets/:name/samples', async (req) => {
    const d = await dataset(req.params.name);
    const q = req.query;
    return d.samplesPage({
      offset: intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
      limit: intParam(q, 'limit', 50, 1, 500),
      metric: q.metric || undefined,
      label: q.label || undefined,
      values: listParam(q.values),
      search: q.q || undefined,
    });
  });
  app.get<{ Params: { name: string; id: string }; Querystring: Query }>('/api/datasets/:name/samples/:id', async (req) => {
    const d = await dataset(req.params.name);
    return d.sample(req.params.id, req.query.metric || d.defaultMetric());
  });
  app.get<{ Params: { name: string }; Querystring: Query }>('/api/datasets/:name/summary', async (req) => {
    const d = await dataset(req.params.name);
    return d.summary(await slice(d, req.query));
  });
  app.get<{ Params: { name: string }; Querystring: Query }>('/api/datasets/:name/map', async (req) => {
    const d = await dataset(req.params.name);
    const method = req.query.method ?? 'pca';
    if (method !== 'pca' && method !== 'tsne') throw new UserError(`method must be pca or tsne, got '${method}'`);
    return d.map({ ...(await slice(d, req.query)), method }, o.compute);
  });
  app.get<{ Params: { name: string }; Querystring: Query }>('/api/datasets/:name/evaluate', async (req) => {
    const d = await dataset(req.params.name);
    const q = req.query;
    const weights = q.weights ?? 'uniform';
    if (weights !== 'uniform' && weights !== 'distance') throw new UserError(`--weights must be uniform or distance, got '${weights}'`);
    return d.evaluate(
      { ...(await slice(d, q)), k: intParam(q, 'k', 29, 1, 100000), folds: intParam(q, 'folds', 10, 2, 1000), seed: intParam(q, 'seed', 42, 0, 2 ** 32 - 1), weights },
      o.compute,
    );
  });
  app.get<{ Querystring: Query }>('/api/compare', async (req): Promise<CompareResult> => {
    const names = listParam(req.query.datasets) ?? [];
    if (names.length < 2) throw new UserError('compare needs two or more datasets: ?datasets=a,b');
    const ds = await Promise.all(names.map(dataset));
    const metric = req.query.metric || ds[0].defaultMetric();
    let shared = ds[0].rowsOf(metric).map((r) => r.sample_id);
    for (const d of ds.slice(1)) shared = shared.filter((id) => d.has(id));
    // Two datasets: the samples where they differ most come first (mean |difference| over steps × layers).
    let differences: number[] | undefined;
    if (ds.length === 2) {
      const scored = shared.map((id) => {
        const d = sampleDifference(ds[0], ds[1], id, metric).diff.flat();
        return { id, score: d.reduce((a, v) => a + Math.abs(v), 0) / Math.max(1, d.length) };
      });
      scored.sort((x, y) => y.score - x.score);
      shared = scored.map((x) => x.id);
      differences = scored.map((x) => x.score);
    }
    return {
      metric,
      datasets: ds.map((d) => {
        const i = d.info();
        return { name: i.name, model: i.model, experiment: i.experiment, n_layers: i.n_layers ?? 0, samples: i.samples, depth: d.depthBand(metric) };
      }),
      shared: shared.slice(0, 500),
      ...(differences ? { mean_abs_difference: differences.slice(0, 500) } : {}),
      shared_total: shared.length,
    };
  });
  app.get<{ Querystring: Query }>('/api/compare/sample', async (req) => {
    const names = listParam(req.query.datasets) ?? [];
    if (names.length !== 2) throw new UserError('the per-sample difference needs exactly two datasets: ?datasets=a,b&sample_id=…');
    const [a, b] = await Promise.all(names.map(dataset));
    const id = req.query.sample_id;
    if (!id) throw new UserError('give the sample: ?sample_id=…');
    return sampleDifference(a, b, id, req.query.metric || a.defaultMetric());
  });
  app.get('/api/live', async (): Promise<LiveInfo> => {
    if (!o.live) return { enabled: false, model: null, n_layers: null, max_new_tokens: 0, max_prompt_chars: 0, running: 0, queued: 0, dropped: 0 };
    return (await o.live).info();
  });
  app.post('/api/profile', async (req, reply) => {
    if (!o.live) throw new HttpError(404, 'live profiling is off: start the viewer with --model MODEL');
    const live = await o.live;
    const body = live.parse(req.body);
    const stream = String(req.headers.accept ?? '').includes('text/event-stream');
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableEnded) abort.abort(); // the client went away
    });
    if (!stream) return live.run(body, abort.signal, () => {});
    // Stream once the first step exists, so that every error before it is an ordinary 400/413/429.
    const send = (event: string, data: unknown): void => {
      reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let started = false;
    const onStep = (s: LiveStep): void => {
      if (!started) {
        started = true;
        reply.hijack();
        reply.raw.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      }
      send('step', s);
    };
    try {
      const doc = await live.run(body, abort.signal, onStep);
      if (!started) return doc;
      send('tokens', live.tokenTexts(doc));
      send('result', doc);
    } catch (err) {
      if (!started) throw err;
      send('error', { error: err instanceof Error ? err.message : String(err) });
    }
    reply.raw.end();
  });
  return app;
}
