/**
 * Writing safetensors files (tests, benchmarks, the demo trainer). Tensors are laid out in the
 * order given, contiguously; the header is space-padded to a multiple of 8 bytes as the reference
 * writer does, so every tensor starts 8-byte aligned within the file.
 */
import * as fs from 'node:fs';
import { UserError } from '../util/errors.js';
import { DTYPE_BYTES, KNOWN_DTYPES, isSafetensorsDtype, type SafetensorsDtype } from './safetensors.js';

export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array
  | number[];

/**
 * `data` is either the raw elements of `dtype` (Uint16Array bit patterns for F16/BF16, Int32Array
 * for I32, …) or float values to convert: F16/BF16 are rounded to nearest-even from float32
 * (Float64Array/number[] go through float32 first, which is still correctly rounded because
 * float32 has more than 2p+2 bits for both 16-bit formats).
 */
export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

function asFloat32(data: TensorData): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array) return Float32Array.from(data, (x) => Number(x));
  return Float32Array.from(data as ArrayLike<number>);
}

/** float32 → bfloat16 bit patterns, round to nearest even; NaN stays NaN (quieted, sign kept). */
export function f32ToBf16Bits(values: Float32Array | Float64Array | number[]): Uint16Array {
  const f = asFloat32(values);
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    if ((x & 0x7fffffff) > 0x7f800000) {
      out[i] = (x >>> 16) | 0x40;
    } else {
      // Adding 0x7fff plus the lowest kept bit rounds half-way cases to the even neighbour; a carry
      // out of the mantissa bumps the exponent, and past the largest finite value yields inf.
      out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  }
  return out;
}

/** float32 → IEEE half bit patterns, correctly rounded (nearest even), with subnormals, overflow to inf, NaN kept. */
export function f32ToF16Bits(values: Float32Array | Float64Array | number[]): Uint16Array {
  const f = asFloat32(values);
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < u.length; i++) out[i] = f32BitsToF16Bits(u[i]);
  return out;
}

function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const a = x & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff); // NaN: quiet bit set, payload top bits kept
  // 65520 is half-way between 65504 (largest half, odd mantissa) and 65536: ties to even go to inf.
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a >= 0x38800000) {
    // Normal half: rebias the exponent (127 → 15) and round off 13 mantissa bits.
    const r = a - (112 << 23);
    return sign | ((r + 0xfff + ((r >>> 13) & 1)) >>> 13);
  }
  // Subnormal half (or zero): the result is round(|x| * 2^24) with ties to even.
  // Up to 2^-25 inclusive (the tie with 0) it rounds to zero.
  if (a <= 0x33000000) return sign;
  const e = a >>> 23;
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e; // 14..24 here
  let q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) === 1)) q++;
  return sign | q; // q can reach 0x400, which is exactly the smallest normal's encoding
}

function encode(name: string, t: TensorToWrite): Uint8Array {
  const { dtype, data } = t;
  const bytes = (v: ArrayBufferView): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  switch (dtype) {
    case 'F32':
      return bytes(asFloat32(data));
    case 'F64':
      return bytes(data instanceof Float64Array ? data : Float64Array.from(asFloat32(data)));
    case 'F16':
      return bytes(data instanceof Uint16Array ? data : f32ToF16Bits(data as Float32Array | Float64Array | number[]));
    case 'BF16':
      return bytes(data instanceof Uint16Array ? data : f32ToBf16Bits(data as Float32Array | Float64Array | number[]));
    case 'I64':
      return bytes(data instanceof BigInt64Array ? data : BigInt64Array.from(data as ArrayLike<number>, (x) => BigInt(x)));
    case 'I32':
      return bytes(data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>));
    case 'I16':
      return bytes(data instanceof Int16Array ? data : Int16Array.from(data as ArrayLike<number>));
    case 'I8':
      return bytes(data instanceof Int8Array ? data : Int8Array.from(data as ArrayLike<number>));
    case 'U8':
    case 'BOOL':
      return bytes(data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>));
    default:
      throw new UserError(`tensor '${name}': cannot write dtype ${String(dtype)}; use one of ${KNOWN_DTYPES.join(', ')}`);
  }
}

export function writeSafetensors(file: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const encoded: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new UserError(`'__metadata__' is reserved in safetensors and cannot name a tensor`);
    if (!isSafetensorsDtype(t.dtype)) throw new UserError(`tensor '${name}': unknown dtype ${String(t.dtype)}; use one of ${KNOWN_DTYPES.join(', ')}`);
    const count = t.shape.reduce((p, d) => p * d, 1);
    const buf = encode(name, t);
    if (buf.byteLength !== count * DTYPE_BYTES[t.dtype]) {
      throw new UserError(
        `tensor '${name}': shape ${JSON.stringify(t.shape)} has ${count} elements but the data has ${buf.byteLength / DTYPE_BYTES[t.dtype]}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + buf.byteLength] };
    encoded.push(buf);
    offset += buf.byteLength;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));

  const fd = fs.openSync(file, 'w');
  try {
    writeAll(fd, len);
    writeAll(fd, json);
    for (const b of encoded) writeAll(fd, b);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, b: Uint8Array): void {
  for (let done = 0; done < b.byteLength; ) {
    done += fs.writeSync(fd, b, done, Math.min(b.byteLength - done, 1 << 30));
  }
}
