/** The weight cache: an architecture's weights under canonical names — read in place from the checkpoint where they are stored as the graph takes them, written once to a cache file where not. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HALF_MIN_VALUES, readInPlace } from '../models/in-place.js';
import type { DecoderSpec, WeightSource } from '../models/types.js';
import { UserError } from '../util/errors.js';
import { collectAllGarbage } from '../util/gc.js';
import type { ExternalWeight } from './builder.js';
import type { WeightDtype } from './external.js';
import { QUANT_BITS, QUANT_BLOCK, quantizeInt8, quantLayout, quantNames } from './quantize.js';
import { f16ToFloat32 } from '../models/safetensors.js';
import { f32ToBf16Bits, f32ToF16Bits } from '../models/safetensors-write.js';

/**
 * The 16-bit form of a matrix whose every value it holds exactly (bfloat16 tried first, then
 * float16), or undefined. Exactness is checked value by value, so a weight that an architecture
 * computed (e.g. a norm offset added, or a scale folded in) and that is no longer representable
 * stays float32.
 */
export function asHalf(data: Float32Array, dims: number[]): { dtype: 'bfloat16' | 'float16'; bits: Uint16Array } | undefined {
  if (dims.length !== 2 || data.length < HALF_MIN_VALUES) return undefined;
  if (bf16Holds(data)) return { dtype: 'bfloat16', bits: f32ToBf16Bits(data) };
  // most float32 checkpoints fail at once: look at a few values before converting them all
  if (!f16Holds(data.subarray(0, 64))) return undefined;
  const bits = f32ToF16Bits(data);
  return f16Holds(data, bits) ? { dtype: 'float16', bits } : undefined;
}

/** Whether bfloat16 holds every value exactly: a bfloat16 is a float32's upper half, so the lower half must be zero. */
function bf16Holds(values: Float32Array): boolean {
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < u32.length; i++) if ((u32[i] & 0xffff) !== 0) return false;
  return true;
}

/** Whether float16 holds every value exactly (NaN as NaN); `bits` = the values' float16 bits, if made already. */
function f16Holds(values: Float32Array, bits = f32ToF16Bits(values)): boolean {
  const back = f16ToFloat32(bits);
  for (let i = 0; i < values.length; i++) if (!Object.is(back[i], values[i]) && !(Number.isNaN(back[i]) && Number.isNaN(values[i]))) return false;
  return true;
}

/** Bumped whenever the exported weight layout changes, so old caches are rebuilt. */
export const WEIGHTS_FORMAT = 2;
const ALIGN = 4096;

export function defaultCacheDir(): string {
  if (process.env.ENTROPYLENS_CACHE) return process.env.ENTROPYLENS_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'entropylens');
}

export interface ExportedWeights {
  /** Folder holding weights.bin (the weights not read in place), weights.json and the graph files. */
  dir: string;
  weights: Map<string, ExternalWeight>;
  /** True when the index (and weights.bin) had to be built now. */
  built: boolean;
}

interface Index {
  format: number;
  key: string;
  entries: ExternalWeight[];
}

/**
 * JSON.stringify replacer that makes equal specs give equal text: object keys sorted (the order in
 * which an architecture file states its fields does not matter), typed arrays as plain arrays.
 */
function canonical(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
  }
  return value;
}

/** Whether a cached index still describes readable bytes: the cache file's and every checkpoint file's. */
function indexReadable(entries: ExternalWeight[], binFile: string): boolean {
  const sizes = new Map<string, number>();
  const size = (f: string): number => {
    let n = sizes.get(f);
    if (n === undefined) {
      n = fs.statSync(f).size;
      sizes.set(f, n);
    }
    return n;
  };
  return entries.every((e) => e.offset + e.length <= size(e.file ?? binFile));
}

/**
 * Make the architecture's weights readable by the graph, under canonical names: every weight that is
 * a checkpoint tensor as stored (or a contiguous block of its rows) is read in place from the
 * checkpoint's file; the rest (computed, rearranged, converted to float32 or quantized) is written
 * once into `<cacheDir>/<key>/weights.bin`. `weights.json` indexes both and is reused while the
 * checkpoint's content, its files' places and the spec are unchanged; it is written last, so an
 * interrupted export is never mistaken for a finished one.
 */
export function exportWeights(
  spec: DecoderSpec,
  sources: WeightSource[],
  fingerprint: string,
  cacheDir: string,
  onProgress?: (done: number, total: number) => void,
  quantize?: 'int8',
  weightDtype?: WeightDtype,
): ExportedWeights {
  const tied = spec.tiedEmbeddings === true;
  const half = weightDtype === 'checkpoint';
  const layouts = sources.map((s) => (quantize ? quantLayout(s.name, tied) : undefined));
  // read in place: what the graph takes as stored; with int8, a tied embedding's lookup rows (only the
  // runtime reads them, widening 16-bit rows itself)
  const direct = sources.map((s, i): ExternalWeight | undefined => {
    const at = layouts[i] ? (s.name === 'embed.weight' ? readInPlace(s, true) : undefined) : readInPlace(s, half);
    return at && { name: s.name, ...at };
  });
  const files = [...new Set(direct.flatMap((e) => (e?.file ? [e.file] : [])))].sort();
  const key = createHash('sha256')
    .update(
      JSON.stringify(
        { WEIGHTS_FORMAT, fingerprint, spec, names: sources.map((s) => [s.name, s.dims]), files, ...(quantize ? { quantize } : {}), ...(weightDtype === 'checkpoint' ? { weightDtype } : {}) },
        canonical,
      ),
    )
    .digest('hex')
    .slice(0, 24);
  const dir = path.join(cacheDir, `${spec.modelType}-${key}`);
  const indexFile = path.join(dir, 'weights.json');
  const binFile = path.join(dir, 'weights.bin');
  try {
    const idx = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as Index;
    if (idx.format === WEIGHTS_FORMAT && idx.key === key && indexReadable(idx.entries, binFile)) {
      return { dir, weights: new Map(idx.entries.map((e) => [e.name, e])), built: false };
    }
  } catch {
    // no usable cache: build it
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UserError(`cannot create the cache folder ${dir}: ${(err as Error).message} (choose another with --cache-dir)`);
  }
  const tmp = `${binFile}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  const entries: ExternalWeight[] = [];
  let offset = 0;
  try {
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i];
      const inFile = direct[i];
      const layout = layouts[i];
      if (inFile && !layout) {
        entries.push(inFile);
        onProgress?.(i + 1, sources.length);
        continue;
      }
      const data = s.load();
      const expected = s.dims.reduce((a, b) => a * b, 1);
      if (data.length !== expected) {
        throw new Error(`weight ${s.name}: ${data.length} values, expected ${expected} for shape [${s.dims.join(', ')}]`);
      }
      const write = (name: string, dims: number[], arr: Float32Array | Uint8Array | Uint16Array, extra: Partial<ExternalWeight> = {}): void => {
        const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
        if (pad) {
          fs.writeSync(fd, Buffer.alloc(pad));
          offset += pad;
        }
        const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
        let written = 0;
        while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
        entries.push({ name, dims, offset, length: bytes.length, ...extra });
        offset += bytes.length;
      };
      if (layout) {
        // int8: the blocks, scales and zero points in place of the float32 weight; a tied embedding
        // keeps its rows too (the runtime looks tokens up in them): in place, or float32 here
        const q = quantizeInt8(data, s.dims, layout);
        const names = quantNames(s.name);
        const nb = Math.ceil(q.K / QUANT_BLOCK);
        write(names.blob, [q.N, nb, QUANT_BLOCK], q.blob, { dtype: 'uint8', quant: { K: q.K, N: q.N, bits: QUANT_BITS, blockSize: QUANT_BLOCK } });
        write(names.scales, [q.N * nb], q.scales);
        write(names.zeros, [q.N * nb], q.zeros, { dtype: 'uint8' });
        if (s.name === 'embed.weight') {
          if (inFile) entries.push(inFile);
          else write(s.name, s.dims, data);
        }
      } else {
        const h = half ? asHalf(data, s.dims) : undefined;
        if (h) write(s.name, s.dims, h.bits, { dtype: h.dtype });
        else write(s.name, s.dims, data);
      }
      onProgress?.(i + 1, sources.length);
    }
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  // The loaded arrays are garbage now, but the large ones were promoted and V8 kept them long past
  // the load (GPT-2 small: the 147 MB embedding and more, still resident while profiling).
  collectAllGarbage();
  fs.renameSync(tmp, binFile);
  const idxTmp = `${indexFile}.${process.pid}.tmp`;
  fs.writeFileSync(idxTmp, JSON.stringify({ format: WEIGHTS_FORMAT, key, entries } satisfies Index));
  fs.renameSync(idxTmp, indexFile);
  return { dir, weights: new Map(entries.map((e) => [e.name, e])), built: true };
}
