/**
 * Steering vectors from files (`--add-vector`): a NumPy .npy array of float32 or float64, or a
 * safetensors file holding exactly one floating-point tensor; d_model values, all finite. Values are
 * kept in double precision (the graph adds float32 of scale × vector, rounded once).
 */
import fs from 'node:fs';
import { UserError } from '../util/errors.js';
import { openRegularFileSync } from '../util/files.js';
import { bf16ToFloat32, DTYPE_BYTES, f16ToFloat32, readExactly, readSafetensorsHeader } from '../models/safetensors.js';

export interface VectorFile {
  values: number[];
  /** The file's element type as its format names it (`<f4`, `F64`, …). */
  dtype: string;
}

/** No steering vector is this large (a model's width is at most tens of thousands): refuse before reading. */
const MAX_BYTES = 64 << 20;
const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Read `file` as a vector of `d` finite values; `what` names the option in errors (e.g. `--add-vector 3:v.npy`). */
export function readVectorFile(file: string, d: number, what: string): VectorFile {
  const fd = openRegularFileSync(file, what);
  let bytes: Buffer;
  try {
    const size = fs.fstatSync(fd).size;
    if (size > MAX_BYTES) throw new UserError(`${what}: ${file} is ${size} bytes; a steering vector of ${d} values is at most ${d * 8} bytes of data`);
    bytes = Buffer.alloc(size);
    readExactly(fd, bytes, 0, size, 0, file);
  } finally {
    fs.closeSync(fd);
  }
  const v = bytes.subarray(0, 6).equals(NPY_MAGIC) ? fromNpy(bytes, file, what) : fromSafetensors(bytes, file, what);
  const n = v.values.length;
  if (n !== d) {
    throw new UserError(`${what}: ${file} holds ${n} values, but the model's residual stream has d_model = ${d}; give a vector of ${d} values`);
  }
  const bad = v.values.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new UserError(`${what}: ${file} has a non-finite value (${v.values[bad]}) at index ${bad}; a steering vector must be finite`);
  return v;
}

/** The shape must be a vector: one axis, or several of which all but one have length 1. */
function checkShape(shape: number[], file: string, what: string): void {
  if (shape.filter((s) => s !== 1).length > 1) {
    throw new UserError(`${what}: ${file} has shape [${shape.join(', ')}]; a steering vector has one axis (d_model values), e.g. [${Math.max(...shape)}]`);
  }
}

/** A .npy file (format versions 1–3): little-endian float32/float64, any order (a vector reads the same). */
function fromNpy(bytes: Buffer, file: string, what: string): VectorFile {
  const major = bytes[6];
  if (![1, 2, 3].includes(major)) throw new UserError(`${what}: ${file} is .npy format version ${major}; versions 1–3 are read`);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new UserError(`${what}: ${file} is a truncated .npy file`);
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.length) throw new UserError(`${what}: ${file} is a truncated .npy file (header runs past the end)`);
  const header = bytes.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeText === undefined) throw new UserError(`${what}: ${file} has a .npy header without 'descr' or 'shape'`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) throw new UserError(`${what}: ${file} has an unreadable .npy shape (${shapeText})`);
  checkShape(shape, file, what);
  const size = shape.reduce((a, b) => a * b, 1);
  const width = descr === '<f4' || descr === '=f4' ? 4 : descr === '<f8' || descr === '=f8' ? 8 : 0;
  if (width === 0) {
    throw new UserError(`${what}: ${file} holds ${descr}; steering vectors are float32 or float64, little-endian (numpy: v.astype('<f4') or '<f8')`);
  }
  const data = start + headerLen;
  if (data + size * width !== bytes.length) throw new UserError(`${what}: ${file} has ${bytes.length - data} data bytes, expected ${size * width} for shape (${shapeText})`);
  const body = bytes.buffer.slice(bytes.byteOffset + data, bytes.byteOffset + data + size * width);
  return { values: Array.from(width === 4 ? new Float32Array(body) : new Float64Array(body)), dtype: descr };
}

/** A safetensors file (its bytes, already read) with one floating-point tensor (F16, BF16, F32, F64); the header is validated by the checkpoint reader. */
function fromSafetensors(bytes: Buffer, file: string, what: string): VectorFile {
  let tensors;
  try {
    tensors = readSafetensorsHeader(file).tensors;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new UserError(`${what}: ${file} is neither a .npy file nor a readable safetensors file (${why})`);
  }
  if (tensors.length !== 1) {
    throw new UserError(`${what}: ${file} holds ${tensors.length} tensors (${tensors.map((t) => t.name).slice(0, 5).join(', ')}); a steering vector file holds exactly one`);
  }
  const t = tensors[0];
  checkShape(t.shape, file, `${what} (tensor ${t.name})`);
  if (!['F16', 'BF16', 'F32', 'F64'].includes(t.dtype)) throw new UserError(`${what}: tensor ${t.name} in ${file} is ${t.dtype}; steering vectors are floating point (F16, BF16, F32, F64)`);
  // a copy at offset 0: typed-array views need aligned starts
  const raw = new Uint8Array(bytes.subarray(t.offset, t.offset + t.byteLength));
  const n = t.byteLength / DTYPE_BYTES[t.dtype];
  const values =
    t.dtype === 'F64'
      ? new Float64Array(raw.buffer, 0, n)
      : t.dtype === 'F32'
        ? new Float32Array(raw.buffer, 0, n)
        : t.dtype === 'F16'
          ? f16ToFloat32(new Uint16Array(raw.buffer, 0, n))
          : bf16ToFloat32(new Uint16Array(raw.buffer, 0, n));
  return { values: Array.from(values), dtype: t.dtype };
}
