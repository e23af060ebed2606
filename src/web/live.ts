/**
 * Live profiling for the viewer (`view --model`): one model run at a time behind a bounded queue,
 * options read and checked with the CLI's words, and each generated step handed out as soon as it
 * exists.
 *
 * LensModel yields a prompt's result when generation ends, so the steps are streamed by running
 * the generation again with growing lengths (1, 2, 3, 4, 6, 9, … tokens) and sending the steps
 * each run adds. Greedy decoding and the seeded sampler draw the same tokens whatever the length,
 * so each run extends the one before; the last run is exactly `profile --json` with the same
 * options, and its result is the one sent at the end. The repeats cost about 3× one run.
 */
import type { LensModel, ProfileResult } from '../lens/model.js';
import { UserError } from '../util/errors.js';
import { intArg, numberArg, parseInterventions, type BlockIntervention } from '../util/options.js';
import type { LiveInfo, LiveStep, ProfileDocument } from './api-types.js';
import { HttpError } from './errors.js';

export interface LiveOptions {
  /** Model folder or hub id, as `--model` gave it. */
  model: string;
  cacheDir?: string;
  threads?: number;
  /** Requests waiting behind the running one before new ones get 429. */
  maxQueue: number;
  /** Per request, from its start: the run stops at the next step boundary after it. */
  timeoutMs: number;
  maxNewTokens: number;
  maxPromptChars: number;
}

export interface LiveRequest {
  prompt: string;
  maxNewTokens: number;
  metrics: string;
  topK: number;
  temperature: number;
  seed: number;
  interventions: BlockIntervention[];
}

const FIELDS = ['prompt', 'max_new_tokens', 'metrics', 'top_k', 'temperature', 'seed', 'scale_block', 'skip_block'];

/** A JSON number or numeric string as the text the CLI would have parsed. */
function optionText(v: unknown, flag: string): string {
  if (typeof v === 'number' || typeof v === 'string') return String(v);
  throw new UserError(`${flag} must be a number, got ${JSON.stringify(v)}`);
}

function list(v: unknown, flag: string): string[] {
  if (v === undefined || v === null) return [];
  const items = Array.isArray(v) ? v : [v];
  return items.map((x) => optionText(x, flag));
}

/** The body of POST /api/profile as checked options; errors say what the CLI would say. */
export function parseLiveRequest(body: unknown, o: Pick<LiveOptions, 'maxNewTokens' | 'maxPromptChars'>): LiveRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UserError('the body must be a JSON object like {"prompt": "Once upon a time", "max_new_tokens": 8}');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!FIELDS.includes(k)) throw new UserError(`unknown option '${k}'; the options are ${FIELDS.join(', ')}`);
  }
  if (typeof b.prompt !== 'string') throw new UserError('no prompt given: send {"prompt": "some text"}');
  if (b.prompt.length > o.maxPromptChars) throw new HttpError(413, `the prompt has ${b.prompt.length} characters; the viewer takes at most ${o.maxPromptChars}`);
  const maxNewTokens = intArg(optionText(b.max_new_tokens ?? 8, '--max-new-tokens'), '--max-new-tokens', 1);
  if (maxNewTokens > o.maxNewTokens) throw new UserError(`--max-new-tokens must be ≤ ${o.maxNewTokens} in the viewer, got ${maxNewTokens} (use entropylens profile for longer runs)`);
  let metrics = 'shannon';
  if (b.metrics !== undefined) {
    if (typeof b.metrics === 'string') metrics = b.metrics;
    else if (Array.isArray(b.metrics) && b.metrics.every((m) => typeof m === 'string')) metrics = b.metrics.join(',');
    else throw new UserError('--metrics must be a comma list of metric names, e.g. shannon,renyi:0.5');
  }
  return {
    prompt: b.prompt,
    maxNewTokens,
    metrics,
    topK: intArg(optionText(b.top_k ?? 5, '--top-k'), '--top-k', 0),
    temperature: numberArg(optionText(b.temperature ?? 0, '--temperature'), '--temperature', 0),
    seed: intArg(optionText(b.seed ?? 0, '--seed'), '--seed', 0),
    interventions: parseInterventions(list(b.scale_block, '--scale-block'), list(b.skip_block, '--skip-block')),
  };
}

/** Run lengths: one step at a time at first, then growing by half, so the repeats stay near 3× one run. */
export function runLengths(total: number): number[] {
  const out: number[] = [];
  for (let n = 1; n < total; n = Math.max(n + 1, Math.ceil(n * 1.5))) out.push(n);
  out.push(total);
  return out;
}

export class LiveProfiler {
  private busy = false;
  private dropped = 0;
  private readonly waiting: { start: () => void; cancel: () => void }[] = [];

  private constructor(
    private readonly o: LiveOptions,
    private readonly model: LensModel,
    private readonly parseMetrics: (m: string) => unknown,
  ) {}

  static async start(o: LiveOptions): Promise<LiveProfiler> {
    // ONNX Runtime is loaded only with --model.
    const [{ LensModel }, { parseMetrics }, { resolveModelDir }] = await Promise.all([import('../lens/model.js'), import('../graph/metric-names.js'), import('../hub/index.js')]);
    const dir = await resolveModelDir(o.model);
    const model = await LensModel.load(dir, { cacheDir: o.cacheDir, threads: o.threads, progress: true });
    return new LiveProfiler(o, model, parseMetrics);
  }

  info(): LiveInfo {
    return {
      enabled: true,
      model: this.o.model,
      n_layers: this.model.nLayers,
      max_new_tokens: this.o.maxNewTokens,
      max_prompt_chars: this.o.maxPromptChars,
      running: this.busy ? 1 : 0,
      queued: this.waiting.length,
      dropped: this.dropped,
    };
  }

  /** Checks a request body; the metric names too, so a bad one is a 400 before any queueing. */
  parse(body: unknown): LiveRequest {
    const req = parseLiveRequest(body, this.o);
    this.parseMetrics(req.metrics);
    return req;
  }

  async close(): Promise<void> {
    for (const w of this.waiting.splice(0)) w.cancel();
    await this.model.close();
  }

  /** Waits for the model (429 when the queue is full), runs, and calls onStep for each step as it appears. */
  async run(req: LiveRequest, signal: AbortSignal, onStep: (s: LiveStep) => void): Promise<ProfileDocument> {
    if (this.busy) {
      if (this.waiting.length >= this.o.maxQueue) {
        throw new HttpError(429, `the model is busy: one run going and ${this.waiting.length} waiting, the most the viewer queues; try again when one finishes`);
      }
      await new Promise<void>((resolve, reject) => {
        const entry = {
          start: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          cancel: () => reject(new HttpError(503, 'the viewer is shutting down')),
        };
        const onAbort = (): void => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) {
            this.waiting.splice(i, 1); // a client that went away gives its place up
            this.dropped++;
          }
          reject(new HttpError(499, 'the client went away'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(entry);
      });
    }
    this.busy = true;
    try {
      return await this.generate(req, signal, onStep);
    } finally {
      this.busy = false;
      this.waiting.shift()?.start();
    }
  }

  private async generate(req: LiveRequest, signal: AbortSignal, onStep: (s: LiveStep) => void): Promise<ProfileDocument> {
    const t0 = performance.now();
    const deadline = t0 + this.o.timeoutMs;
    const opts = { temperature: req.temperature, seed: req.seed, metrics: req.metrics, topK: req.topK, interventions: req.interventions };
    let sent = 0;
    let last: ProfileResult | undefined;
    for (const n of runLengths(req.maxNewTokens)) {
      if (signal.aborted) throw new HttpError(499, 'the client went away');
      if (performance.now() > deadline) {
        throw new HttpError(503, `the run took longer than the viewer's limit of ${Math.round(this.o.timeoutMs / 1000)} s (--request-timeout) and was stopped after ${sent} tokens`);
      }
      for await (const r of this.model.profile([req.prompt], { ...opts, maxNewTokens: n })) last = r;
      const r = last!;
      for (; sent < r.generatedIds.length; sent++) onStep(this.stepOf(r, sent));
      if (r.generatedIds.length < n) break; // stopped early (end of sequence)
    }
    const { modelJson, resultJson } = await import('../lens/json.js');
    return {
      model: modelJson(this.model),
      results: [resultJson(last!, (id) => this.model.tokenText(id)) as unknown as ProfileDocument['results'][number]],
      timing: { generate_seconds: Math.round(performance.now() - t0) / 1000 },
    };
  }

  /** The text of every token id in a result (generated, argmax, top-k), for the page to label the final table. */
  tokenTexts(doc: ProfileDocument): Record<number, string | null> {
    const out: Record<number, string | null> = {};
    const r = doc.results[0];
    for (const id of [...r.generated_ids, ...r.argmax.flat(), ...(r.topk?.ids.flat(2) ?? [])]) if (!(id in out)) out[id] = this.model.tokenText(id);
    return out;
  }

  private stepOf(r: ProfileResult, t: number): LiveStep {
    const text = (id: number): string | null => this.model.tokenText(id);
    const step: LiveStep = {
      step: t,
      token_id: r.generatedIds[t],
      token: text(r.generatedIds[t]),
      metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, v[t]])),
      argmax: r.argmax[t],
      argmax_tokens: r.argmax[t].map(text),
    };
    if (r.topk) step.topk = { ids: r.topk.ids[t], probs: r.topk.probs[t], tokens: r.topk.ids[t].map((ids) => ids.map(text)) };
    return step;
  }
}
