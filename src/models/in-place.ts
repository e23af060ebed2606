/**
 * Which weights the graph can read in place from the checkpoint's own files (no copy in the weight
 * cache), and where their bytes are. Used by the export (graph/export.ts) and by `inspect`.
 */
import fs from 'node:fs';
import type { WeightSource } from './types.js';

/** Matrices below this many values stay float32 whatever their values (vectors — norms, biases — always do). */
export const HALF_MIN_VALUES = 1024;

/** A weight's bytes in a checkpoint file, as the graph reads them. */
export interface InPlace {
  /** The file's real path (symbolic links resolved). */
  file: string;
  offset: number;
  length: number;
  /** The stored shape: the transpose of the weight's own for a transposed weight. */
  dims: number[];
  /** Absent for float32. */
  dtype?: 'bfloat16' | 'float16';
  transposed?: true;
}

/**
 * Where a weight can be read in place, or undefined when it must be written to the cache (computed,
 * rearranged, converted or quantized). A tensor is read in place when the graph takes its dtype as
 * it is: float32 always, bfloat16/float16 matrices of at least HALF_MIN_VALUES values when 16-bit
 * weights are kept (`half`).
 */
export function readInPlace(s: WeightSource, half: boolean): InPlace | undefined {
  const st = s.stored;
  if (!st) return undefined;
  const { info } = st;
  const dtype = info.dtype === 'F32' ? 'float32' : info.dtype === 'BF16' ? 'bfloat16' : info.dtype === 'F16' ? 'float16' : undefined;
  if (!dtype) return undefined;
  const values = s.dims.reduce((a, b) => a * b, 1);
  if (dtype !== 'float32' && !(half && s.dims.length === 2 && values >= HALF_MIN_VALUES)) return undefined;
  const rowValues = info.shape.slice(1).reduce((a, b) => a * b, 1);
  const [from, count] = st.rows ?? [0, info.shape[0] ?? 1];
  const dims = info.shape.length === 0 ? [] : [count, ...info.shape.slice(1)];
  const logical = st.transposed ? [...dims].reverse() : dims;
  // a shape that is not the weight's own (it never should be) is written to the cache instead
  if (logical.length !== s.dims.length || logical.some((v, i) => v !== s.dims[i]) || (st.transposed && dims.length !== 2)) return undefined;
  const bytes = dtype === 'float32' ? 4 : 2;
  return {
    file: fs.realpathSync(info.file),
    offset: info.offset + from * rowValues * bytes,
    length: values * bytes,
    dims,
    ...(dtype !== 'float32' ? { dtype } : {}),
    ...(st.transposed ? { transposed: true as const } : {}),
  };
}
