/**
 * Float64 building blocks for small reference forwards written in tests straight from Hugging Face
 * semantics (HF tensor names and layouts, no DecoderSpec), for architectures without a parity
 * fixture. Vectors are number[]; a sequence is number[][] (positions × features). Slow and plain
 * on purpose: the models are tiny and the point is independence from the ONNX graph.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { LensModel, type ProfileOptions, type ProfileResult } from '../../src/lens/model.js';
import { writeSafetensors, type TensorToWrite } from './safetensors-writer.js';

/** Deterministic normal samples (mulberry32 + Box–Muller). */
export function normalSampler(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

/** A checkpoint under construction: float32 tensors by HF name, random with a given spread. */
export class TinyCheckpoint {
  readonly tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  private readonly randn: () => number;
  constructor(seed: number) {
    this.randn = normalSampler(seed);
  }

  random(name: string, shape: number[], std: number, mean = 0): void {
    const n = shape.reduce((a, b) => a * b, 1);
    this.tensors.set(name, { shape, data: Float32Array.from({ length: n }, () => mean + std * this.randn()) });
  }

  get(name: string): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`reference: no tensor ${name}`);
    return t.data;
  }

  save(dir: string, config: Record<string, unknown>): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
    const out: Record<string, TensorToWrite> = {};
    for (const [name, t] of this.tensors) out[name] = { dtype: 'F32', shape: t.shape, data: t.data };
    writeSafetensors(path.join(dir, 'model.safetensors'), out);
  }
}

/** x @ Wᵀ + b for a PyTorch Linear weight W [out, in]. */
export function linear(x: number[][], w: Float32Array, out: number, inp: number, b?: Float32Array): number[][] {
  return x.map((row) => {
    const y = new Array<number>(out);
    for (let o = 0; o < out; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inp; i++) s += row[i] * w[o * inp + i];
      y[o] = s;
    }
    return y;
  });
}

export function add(a: number[][], b: number[][]): number[][] {
  return a.map((r, i) => r.map((v, j) => v + b[i][j]));
}

export function rmsNorm(x: number[], w: ArrayLike<number>, eps: number, onePlus: boolean): number[] {
  const ms = x.reduce((s, v) => s + v * v, 0) / x.length;
  const r = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * r * (onePlus ? 1 + w[i] : w[i]));
}

export function layerNorm(x: number[], w: ArrayLike<number>, b: ArrayLike<number> | undefined, eps: number): number[] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const v = x.reduce((s, u) => s + (u - mean) ** 2, 0) / x.length;
  const r = 1 / Math.sqrt(v + eps);
  return x.map((u, i) => (u - mean) * r * w[i] + (b ? b[i] : 0));
}

export const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
export const relu = (x: number): number => Math.max(0, x);
export const silu = (x: number): number => x / (1 + Math.exp(-x));

/** rotate_half rotary on the first invFreq.length·2 entries of one head vector at position pos. */
export function rope(x: number[], pos: number, invFreq: number[], attentionFactor = 1): number[] {
  const half = invFreq.length;
  const out = x.slice();
  for (let i = 0; i < half; i++) {
    const a = pos * invFreq[i];
    const c = Math.cos(a) * attentionFactor;
    const s = Math.sin(a) * attentionFactor;
    out[i] = x[i] * c - x[i + half] * s;
    out[i + half] = x[i + half] * c + x[i] * s;
  }
  return out;
}

export function invFreq(base: number, dim: number): number[] {
  return Array.from({ length: dim / 2 }, (_, i) => 1 / base ** ((2 * i) / dim));
}

/** Split [seq, heads·hd] into heads × [seq, hd]. */
export function heads(x: number[][], n: number, hd: number): number[][][] {
  return Array.from({ length: n }, (_, h) => x.map((row) => row.slice(h * hd, (h + 1) * hd)));
}

/**
 * Causal attention over one sequence: q heads [H][seq][hd], k/v heads [KV][seq][hd] (query head h
 * uses kv head ⌊h·KV/H⌋); `visible(i, j)` adds extra masking (windows); `bias(h, i, j)` is added
 * after scaling and soft-capping. Returns [seq, H·hd].
 */
export function attention(
  q: number[][][],
  k: number[][][],
  v: number[][][],
  o: { scale: number; softcap?: number; visible?: (i: number, j: number) => boolean; bias?: (h: number, i: number, j: number) => number },
): number[][] {
  const H = q.length;
  const KV = k.length;
  const seq = q[0].length;
  const hd = q[0][0].length;
  const out: number[][] = Array.from({ length: seq }, () => new Array<number>(H * hd).fill(0));
  for (let h = 0; h < H; h++) {
    const g = Math.floor((h * KV) / H);
    for (let i = 0; i < seq; i++) {
      const scores: number[] = [];
      for (let j = 0; j <= i; j++) {
        if (o.visible && !o.visible(i, j)) {
          scores.push(-Infinity);
          continue;
        }
        let s = 0;
        for (let t = 0; t < hd; t++) s += q[h][i][t] * k[g][j][t];
        s *= o.scale;
        if (o.softcap) s = o.softcap * Math.tanh(s / o.softcap);
        if (o.bias) s += o.bias(h, i, j);
        scores.push(s);
      }
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j <= i; j++) {
        const p = e[j] / z;
        if (p === 0) continue;
        for (let t = 0; t < hd; t++) out[i][h * hd + t] += p * v[g][j][t];
      }
    }
  }
  return out;
}

/** Shannon entropy (nats) and argmax of softmax(logits). */
export function entropyOf(logits: number[]): { shannon: number; argmax: number } {
  const m = Math.max(...logits);
  const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
  let h = 0;
  let argmax = 0;
  for (let i = 0; i < logits.length; i++) {
    const lp = logits[i] - lse;
    h -= Math.exp(lp) * lp;
    if (logits[i] > logits[argmax]) argmax = i;
  }
  return { shannon: h, argmax };
}

/**
 * A float64 forward of a tiny model: the residual stream of a text at every position, [0] the input
 * of block 0 (the embeddings as the model feeds them), then the output of each block; each
 * positions × d.
 */
export type Forward = (ids: number[]) => number[][][];

/**
 * The protocol's profile without a KV cache, as the fixtures were made: at each step run the whole
 * sequence, take every block's output at the last position through `lens`, and append the greedy
 * token of the last block.
 */
export function referenceProfile(
  ids: number[],
  steps: number,
  forward: Forward,
  lens: (resid: number[]) => number[],
): { generated: number[]; shannon: number[][]; argmax: number[][] } {
  const seq = ids.slice();
  const generated: number[] = [];
  const shannon: number[][] = [];
  const argmax: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const per = forward(seq)
      .slice(1)
      .map((xs) => entropyOf(lens(xs[xs.length - 1])));
    shannon.push(per.map((p) => p.shannon));
    argmax.push(per.map((p) => p.argmax));
    const next = per[per.length - 1].argmax;
    generated.push(next);
    seq.push(next);
  }
  return { generated, shannon, argmax };
}

/** log-softmax of logits, in float64. */
export function logSoftmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
  return logits.map((v) => v - lse);
}

/**
 * The rank of token `id` under log-probabilities `lp` (tokens strictly above it) is in [lo, hi]:
 * tokens within `margin` of it may fall either way in float32.
 */
export function rankRange(lp: number[], id: number, margin = 1e-5): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const v of lp) {
    if (v > lp[id] + margin) lo++;
    if (v > lp[id] - margin) hi++;
  }
  return [lo, Math.max(lo, hi - 1)];
}

/**
 * The engine's lens over prompt positions (positions 'all', 2 generated steps) equals the float64
 * reference at every position and layer: Shannon within `tol`, argmax, the next token's
 * log-probability within `tol` and its rank, rank:final (the rank of the last layer's top token);
 * the generated steps equal referenceProfile. With lensEmbeddings the embeddings are a first layer.
 */
export async function assertPositionsMatchReference(
  model: LensModel,
  prompts: number[][],
  opts: Pick<ProfileOptions, 'batchSize' | 'positionTokens' | 'lensEmbeddings' | 'lensGroups'>,
  forward: Forward,
  lens: (resid: number[]) => number[],
  tol: number,
): Promise<void> {
  const steps = 2;
  const rs: ProfileResult[] = [];
  for await (const r of model.profile(prompts.map((ids) => ({ ids })), { ...opts, positions: 'all', maxNewTokens: steps, metrics: 'shannon,rank:final' })) rs.push(r);
  assert.equal(rs.length, prompts.length);
  for (const r of rs) {
    const ids = prompts[r.index];
    const streams = forward(ids);
    const layers = opts.lensEmbeddings ? streams : streams.slice(1);
    const pos = r.positions!;
    assert.deepEqual(pos.ids, ids);
    assert.equal(pos.metrics.shannon.length, ids.length, 'one row per prompt position');
    assert.equal(pos.nextRank.length, ids.length - 1);
    for (let p = 0; p < ids.length; p++) {
      const lps = layers.map((xs) => logSoftmax(lens(xs[p])));
      const final = entropyOf(lens(streams[streams.length - 1][p])).argmax;
      lps.forEach((lp, l) => {
        const tag = `prompt ${r.index} position ${p} layer ${l}`;
        const h = -lp.reduce((a, v) => a + Math.exp(v) * v, 0);
        assert.ok(Math.abs(pos.metrics.shannon[p][l] - h) <= tol, `${tag}: shannon ${pos.metrics.shannon[p][l]} vs ${h}`);
        assert.equal(pos.argmax[p][l], lp.indexOf(Math.max(...lp)), `${tag}: argmax`);
        const [flo, fhi] = rankRange(lp, final);
        const rf = pos.metrics['rank:final'][p][l];
        assert.ok(rf >= flo && rf <= fhi, `${tag}: rank:final ${rf}, float64 [${flo}, ${fhi}]`);
        if (p + 1 < ids.length) {
          const next = ids[p + 1];
          assert.ok(Math.abs(pos.nextLogprob[p][l] - lp[next]) <= tol, `${tag}: next logprob ${pos.nextLogprob[p][l]} vs ${lp[next]}`);
          const [lo, hi] = rankRange(lp, next);
          assert.ok(pos.nextRank[p][l] >= lo && pos.nextRank[p][l] <= hi, `${tag}: next rank ${pos.nextRank[p][l]}, float64 [${lo}, ${hi}]`);
        }
      });
    }
    if (!opts.lensEmbeddings) assertMatchesReference(r, referenceProfile(ids, steps, forward, lens), tol);
  }
}

/**
 * A profile from the engine equals a `referenceProfile`: greedy ids and lens argmax exactly, Shannon
 * within `tol` at every step and layer.
 */
export function assertMatchesReference(
  got: { index: number; generatedIds: number[]; argmax: number[][]; metrics: Record<string, number[][]> },
  want: { generated: number[]; shannon: number[][]; argmax: number[][] },
  tol: number,
): void {
  assert.deepEqual(got.generatedIds, want.generated, `prompt ${got.index}: greedy ids`);
  assert.deepEqual(got.argmax, want.argmax, `prompt ${got.index}: lens argmax`);
  assert.equal(got.metrics.shannon.length, want.shannon.length, `prompt ${got.index}: steps`);
  for (let t = 0; t < want.shannon.length; t++) {
    for (let l = 0; l < want.shannon[t].length; l++) {
      const drift = Math.abs(got.metrics.shannon[t][l] - want.shannon[t][l]);
      assert.ok(drift <= tol, `prompt ${got.index} step ${t} layer ${l}: drift ${drift.toExponential(2)}`);
    }
  }
}

/** The tiny model of a describe() block: set in its before(), closed and removed in its after(). */
export interface TinyModelContext {
  dir: string;
  ckpt: TinyCheckpoint;
  model: LensModel;
}

/**
 * Registers before()/after() in the calling describe(): `build` writes a tiny checkpoint into
 * `<fresh temp folder>/model`, which is loaded once (one thread, cache in the same folder).
 */
export function tinyModelFor(tag: string, build: (dir: string) => TinyCheckpoint): TinyModelContext {
  const ctx = {} as TinyModelContext;
  before(async () => {
    ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), `el-${tag}-`));
    ctx.ckpt = build(path.join(ctx.dir, 'model'));
    ctx.model = await LensModel.load(path.join(ctx.dir, 'model'), { cacheDir: path.join(ctx.dir, 'cache'), threads: 1 });
  });
  after(async () => {
    await ctx.model.close();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

/** Profile `prompts` (token ids) greedily for `steps` tokens and assert each against `referenceProfile`. */
export async function assertProfilesMatchReference(
  model: LensModel,
  prompts: number[][],
  steps: number,
  opts: Pick<ProfileOptions, 'batchSize' | 'prefillTokens' | 'interventions'>,
  forward: Forward,
  lens: (resid: number[]) => number[],
  tol: number,
): Promise<void> {
  const rs: ProfileResult[] = [];
  for await (const r of model.profile(prompts.map((ids) => ({ ids })), { ...opts, maxNewTokens: steps })) rs.push(r);
  assert.equal(rs.length, prompts.length);
  for (const r of rs) assertMatchesReference(r, referenceProfile(prompts[r.index], steps, forward, lens), tol);
}
