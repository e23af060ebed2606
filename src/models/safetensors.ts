/**
 * Reading the safetensors format: an 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {k: v}}), then the data
 * region, where offsets are relative to the first byte after the header.
 *
 * Header parsing never trusts the file's numbers before checking them against the file size, so a
 * corrupt or truncated download fails with a message instead of a huge allocation or a short read.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { nestsDeeperThan } from '../util/json.js';
import { UserError } from '../util/errors.js';
import { openRegularFileSync } from '../util/files.js';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  file: string;
  /** Absolute byte offset of the data in `file`. */
  offset: number;
  byteLength: number;
}

export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export const KNOWN_DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];

export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/**
 * The reference implementation refuses headers over 100 MB; a header that large is corruption,
 * and the cap keeps a bad length field from making us allocate gigabytes.
 */
export const MAX_HEADER_BYTES = 100_000_000;

if (os.endianness() !== 'LE') {
  // Typed-array views over file bytes assume the host matches the format's little-endian order.
  throw new Error('entropylens reads safetensors through typed-array views and needs a little-endian host');
}

/** Reads exactly `length` bytes at `position` into `dst[dstOffset..]`; a short read means the file shrank or is truncated. */
export function readExactly(fd: number, dst: Uint8Array, dstOffset: number, length: number, position: number, file: string): void {
  let done = 0;
  while (done < length) {
    // readSync's length is an int32; large tensors are read in slices.
    const want = Math.min(length - done, 1 << 30);
    const n = fs.readSync(fd, dst, dstOffset + done, want, position + done);
    if (n === 0) {
      throw new UserError(
        `${file}: unexpected end of file at byte ${position + done} (wanted ${length} bytes from ${position}); ` +
          'the file looks truncated or changed while reading — download it again',
      );
    }
    done += n;
  }
}

/** Parse and fully validate a .safetensors header without reading tensor data. */
export function readSafetensorsHeader(file: string): { tensors: TensorInfo[]; metadata: Record<string, string> } {
  // Regular files only: a FIFO would block, /dev/zero never ends, a directory gives a bare EISDIR.
  const fd = openRegularFileSync(file, 'safetensors file');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) {
      throw new UserError(
        `${file}: ${size} bytes is too short for a safetensors file (it needs at least an 8-byte header length); ` +
          'the file is empty or truncated — download it again',
      );
    }
    const lenBuf = new Uint8Array(8);
    readExactly(fd, lenBuf, 0, 8, 0, file);
    const headerLen = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (headerLen > BigInt(size - 8)) {
      throw new UserError(
        `${file}: the header length field says ${headerLen} bytes but the file has only ${size - 8} bytes after it; ` +
          'this is not a safetensors file, or it is corrupt or truncated — download it again',
      );
    }
    const n = Number(headerLen);
    if (n > MAX_HEADER_BYTES) {
      throw new UserError(`${file}: the header is ${n} bytes, over the ${MAX_HEADER_BYTES}-byte limit of the format; the file is corrupt`);
    }
    const headerBytes = new Uint8Array(n);
    readExactly(fd, headerBytes, 0, n, 8, file);
    return parseHeader(file, headerBytes, size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Generous: the format needs 3 levels; metadata values other than strings are tolerated (stringified). */
const MAX_HEADER_DEPTH = 64;

function parseHeader(file: string, headerBytes: Uint8Array, fileSize: number): { tensors: TensorInfo[]; metadata: Record<string, string> } {
  if (nestsDeeperThan(headerBytes, MAX_HEADER_DEPTH)) {
    throw new UserError(`${file}: the safetensors header nests objects or arrays more than ${MAX_HEADER_DEPTH} levels deep (the format has 3); the file is corrupt`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw new UserError(`${file}: the safetensors header is not valid UTF-8 JSON (${(e as Error).message}); the file is corrupt — download it again`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new UserError(`${file}: the safetensors header must be a JSON object, found ${Array.isArray(header) ? 'an array' : typeof header}; the file is corrupt`);
  }
  const dataStart = 8 + headerBytes.length;
  const dataLen = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  // Relative [begin, end) of each tensor, validated against the data region after all are parsed
  // so that a truncated file is reported once, with the size it should have.
  const spans: { name: string; begin: number; end: number }[] = [];

  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new UserError(`${file}: __metadata__ in the safetensors header must be an object of strings; the file is corrupt`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
      }
      continue;
    }
    const where = `${file}: tensor '${name}'`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new UserError(`${where}: its header entry must be an object with dtype, shape and data_offsets; the file is corrupt`);
    }
    const entry = raw as Record<string, unknown>;
    const dtype = entry.dtype;
    if (!isSafetensorsDtype(dtype)) {
      throw new UserError(
        `${where}: unknown dtype ${JSON.stringify(dtype)}; entropylens reads ${KNOWN_DTYPES.join(', ')} — ` +
          'convert the checkpoint to one of these (e.g. save it again from transformers in float32/bfloat16)',
      );
    }
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new UserError(`${where}: shape ${JSON.stringify(shape)} must be an array of non-negative integers; the file is corrupt`);
    }
    const offs = entry.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) ||
      (offs[0] as number) > (offs[1] as number)
    ) {
      throw new UserError(`${where}: data_offsets ${JSON.stringify(offs)} must be two non-negative integers [begin, end] with begin <= end; the file is corrupt`);
    }
    const [begin, end] = offs as [number, number];
    // BigInt: a corrupt shape could overflow 2^53 and compare equal by accident.
    const expected = (shape as number[]).reduce((p, d) => p * BigInt(d), 1n) * BigInt(DTYPE_BYTES[dtype]);
    if (expected !== BigInt(end - begin)) {
      throw new UserError(
        `${where}: shape ${JSON.stringify(shape)} of ${dtype} needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}; the file is corrupt`,
      );
    }
    spans.push({ name, begin, end });
    tensors.push({ name, dtype, shape: (shape as number[]).slice(), file, offset: dataStart + begin, byteLength: end - begin });
  }

  let last: { name: string; end: number } | undefined;
  for (const s of spans) if (!last || s.end > last.end) last = s;
  if (last && last.end > dataLen) {
    throw new UserError(
      `${file}: tensor '${last.name}' ends at data byte ${last.end}, beyond the end of the file; the file looks truncated: ` +
        `expected at least ${dataStart + last.end} bytes, found ${fileSize} — download it again`,
    );
  }

  // Gaps are allowed (some writers align tensors), overlaps are not. Empty tensors occupy no bytes.
  const occupied = spans.filter((s) => s.end > s.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < occupied.length; i++) {
    const prev = occupied[i - 1];
    const cur = occupied[i];
    if (cur.begin < prev.end) {
      throw new UserError(
        `${file}: tensors '${prev.name}' [${prev.begin}, ${prev.end}) and '${cur.name}' [${cur.begin}, ${cur.end}) overlap in the data region; the file is corrupt`,
      );
    }
  }
  return { tensors, metadata };
}

// ---- dtype conversion -------------------------------------------------------------------------

let f16Table: Uint32Array | undefined;

/** float32 bit patterns of all 65536 halfs; every half is exactly representable as a float32. */
function halfToFloatBitsTable(): Uint32Array {
  if (f16Table) return f16Table;
  const t = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    let bits: number;
    if (exp === 0x1f) {
      bits = sign | 0x7f800000 | (mant << 13); // inf, or nan with its payload kept
    } else if (exp !== 0) {
      bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant === 0) {
      bits = sign; // ±0
    } else {
      // Subnormal half: shift the mantissa up to an implicit leading 1, lowering the exponent.
      let e = 113; // 127 - 15 + 1
      while ((mant & 0x400) === 0) {
        mant <<= 1;
        e--;
      }
      bits = sign | (e << 23) | ((mant & 0x3ff) << 13);
    }
    t[h] = bits >>> 0;
  }
  f16Table = t;
  return t;
}

/** Upcasts IEEE half bit patterns to float32 bit patterns (exact; NaN payloads kept). */
export function f16BitsToF32Bits(src: Uint16Array, dst: Uint32Array, dstOffset = 0): void {
  const t = halfToFloatBitsTable();
  for (let i = 0; i < src.length; i++) dst[dstOffset + i] = t[src[i]];
}

/** bfloat16 is the upper half of a float32, so the upcast is a shift. */
export function bf16BitsToF32Bits(src: Uint16Array, dst: Uint32Array, dstOffset = 0): void {
  for (let i = 0; i < src.length; i++) dst[dstOffset + i] = src[i] << 16;
}

export function f16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  f16BitsToF32Bits(bits, new Uint32Array(out.buffer));
  return out;
}

export function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  bf16BitsToF32Bits(bits, new Uint32Array(out.buffer));
  return out;
}

/** Scratch size for converting reads: big enough to amortise syscalls, small enough to stay in cache-ish memory. */
const CHUNK_BYTES = 1 << 20;

/**
 * Reads one tensor from an open fd into a new Float32Array. F32 is read straight into the result;
 * other dtypes go through a fixed-size scratch buffer, so memory stays at the output plus one chunk.
 */
export function readTensorFloat32(fd: number, info: TensorInfo): Float32Array {
  const count = info.byteLength / DTYPE_BYTES[info.dtype];
  // Every element is overwritten below, so skip the zero-fill of a fresh Float32Array.
  const backing = Buffer.allocUnsafeSlow(count * 4); // unpooled, so its own 4-aligned ArrayBuffer
  const out = new Float32Array(backing.buffer, backing.byteOffset, count);
  if (info.dtype === 'F32') {
    readExactly(fd, new Uint8Array(out.buffer, out.byteOffset, info.byteLength), 0, info.byteLength, info.offset, info.file);
    return out;
  }
  const elemBytes = DTYPE_BYTES[info.dtype];
  const chunkElems = Math.max(1, Math.floor(CHUNK_BYTES / elemBytes));
  const scratch = new ArrayBuffer(Math.min(info.byteLength, chunkElems * elemBytes));
  const scratchBytes = new Uint8Array(scratch);
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let start = 0; start < count; start += chunkElems) {
    const n = Math.min(chunkElems, count - start);
    readExactly(fd, scratchBytes, 0, n * elemBytes, info.offset + start * elemBytes, info.file);
    convertChunk(info.dtype, scratch, n, out, outBits, start);
  }
  return out;
}

function convertChunk(dtype: SafetensorsDtype, scratch: ArrayBuffer, n: number, out: Float32Array, outBits: Uint32Array, at: number): void {
  switch (dtype) {
    case 'F16':
      f16BitsToF32Bits(new Uint16Array(scratch, 0, n), outBits, at);
      return;
    case 'BF16':
      bf16BitsToF32Bits(new Uint16Array(scratch, 0, n), outBits, at);
      return;
    case 'F32':
      outBits.set(new Uint32Array(scratch, 0, n), at);
      return;
    case 'F64':
      out.set(new Float64Array(scratch, 0, n), at); // rounds to nearest float32
      return;
    case 'I64': {
      const src = new BigInt64Array(scratch, 0, n);
      for (let i = 0; i < n; i++) out[at + i] = Number(src[i]);
      return;
    }
    case 'I32':
      out.set(new Int32Array(scratch, 0, n), at);
      return;
    case 'I16':
      out.set(new Int16Array(scratch, 0, n), at);
      return;
    case 'I8':
      out.set(new Int8Array(scratch, 0, n), at);
      return;
    case 'U8':
    case 'BOOL':
      out.set(new Uint8Array(scratch, 0, n), at);
      return;
  }
}
