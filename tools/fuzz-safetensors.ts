/**
 * Fuzzing the safetensors header parser (readSafetensorsHeader): random bytes, well-formed files built
 * here, and mutations of them (bit flips, truncation, header-length and JSON-level edits, huge and
 * negative numbers, deep nesting). Each case is written to a file and parsed through the real API.
 * A case fails when the parser throws anything but UserError, takes longer than a second, accepts a
 * header whose tensors do not fit the file, or leaves more array-buffer memory allocated than a small
 * multiple of the file's size (an allocation sized by a number in the header).
 *
 *   node dist/tools/fuzz-safetensors.js --cases 100000 [--seed 1]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DTYPE_BYTES, KNOWN_DTYPES, readSafetensorsHeader, type TensorInfo } from '../src/models/safetensors.js';
import { UserError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Stop adding cases after this many milliseconds of wall time (the CI test's bound); default none. */
  budgetMs?: number;
}

export interface FuzzFailure {
  kind: string;
  message: string;
  /** The file's bytes, base64, to reproduce the case. */
  bytesBase64: string;
  caseIndex: number;
}

export interface FuzzReport {
  cases: number;
  accepted: number;
  refused: number;
  failures: FuzzFailure[];
  /** CPU milliseconds of the most expensive case. */
  slowestMs: number;
  maxExtraBufferBytes: number;
  byGenerator: Record<string, number>;
  /** CPU milliseconds spent parsing, per generator. */
  cpuMsByGenerator: Record<string, number>;
}

/** Slack for the memory check: the parser may keep a few header-sized buffers alive until the next GC. */
const BUFFER_SLACK = 1 << 20;
const SLOW_MS = 1000;

// ---- well-formed files ---------------------------------------------------------------------------

/** JSON of an object given as entries: a key such as `__proto__` stays a key (an object literal would not). */
function jsonObject(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

interface Spec {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function randomName(rng: Rng): string {
  const pool = ['model.layers.0.weight', 'lm_head.weight', 'a', 'é', '__proto__', 'constructor', 'x'.repeat(300), '', ' ', '\u0000', '🙂'];
  return rng.chance(0.5) ? rng.pick(pool) + (rng.chance(0.5) ? `.${rng.int(1000)}` : '') : `t${rng.int(1_000_000)}`;
}

/** A valid file: tensors laid out in a random order with random gaps, maybe metadata, maybe padding. */
function wellFormed(rng: Rng): { bytes: Uint8Array; specs: Spec[] } {
  const n = rng.int(6);
  const specs: Spec[] = [];
  const names = new Set<string>();
  let cursor = 0;
  for (let i = 0; i < n; i++) {
    let name = randomName(rng);
    while (names.has(name) || name === '__metadata__') name += '_';
    names.add(name);
    const dtype = rng.pick(KNOWN_DTYPES);
    const rank = rng.int(4);
    const shape = Array.from({ length: rank }, () => (rng.chance(0.1) ? 0 : rng.range(1, 5)));
    const bytes = shape.reduce((p, d) => p * d, 1) * DTYPE_BYTES[dtype];
    cursor += rng.chance(0.3) ? rng.int(16) : 0; // writers may align tensors
    specs.push({ name, dtype, shape, begin: cursor, end: cursor + bytes });
    cursor += bytes;
  }
  const entries: [string, unknown][] = [];
  if (rng.chance(0.5)) entries.push(['__metadata__', { format: 'pt', note: rng.chance(0.5) ? 'x' : { nested: [1, 2] } }]);
  for (const s of rng.shuffle(specs)) entries.push([s.name, { dtype: s.dtype, shape: s.shape, data_offsets: [s.begin, s.end] }]);
  let json = jsonObject(rng.shuffle(entries));
  if (rng.chance(0.5)) json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const dataLen = cursor + (rng.chance(0.2) ? rng.int(10) : 0);
  const out = new Uint8Array(8 + headerBytes.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  for (let i = 8 + headerBytes.length; i < out.length; i++) out[i] = rng.int(256);
  return { bytes: out, specs };
}

// ---- hostile inputs -------------------------------------------------------------------------------

const HUGE_NUMBERS = [
  -1, -0.5, 0.5, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e15, 4294967296, 4294967295, Number.MAX_SAFE_INTEGER, 1e-300,
];

function withHeader(json: string, dataLen: number, rng: Rng): Uint8Array {
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  for (let i = 8 + headerBytes.length; i < out.length; i++) out[i] = rng.int(256);
  return out;
}

/** Edits of the JSON header that keep it JSON: the values a hostile writer would pick. */
function jsonMutation(rng: Rng): Uint8Array {
  const { specs } = wellFormed(rng);
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const s of specs) header[s.name] = { dtype: s.dtype, shape: s.shape, data_offsets: [s.begin, s.end] };
  const dataLen = specs.reduce((m, s) => Math.max(m, s.end), 0);
  const entries = Object.values(header) as Record<string, unknown>[];
  const target = entries.length > 0 ? rng.pick(entries) : (header['t'] = { dtype: 'F32', shape: [1], data_offsets: [0, 4] });
  switch (rng.int(14)) {
    case 0:
      target['shape'] = [rng.pick(HUGE_NUMBERS), rng.pick(HUGE_NUMBERS)];
      break;
    case 1:
      target['data_offsets'] = [rng.pick(HUGE_NUMBERS), rng.pick(HUGE_NUMBERS)];
      break;
    case 2:
      // A shape whose product overflows 2^53 and an end that makes it "match" in floating point.
      target['shape'] = [2 ** 26, 2 ** 26, 3];
      target['dtype'] = 'U8';
      target['data_offsets'] = [0, 2 ** 52 * 3];
      break;
    case 3:
      target['dtype'] = rng.pick(['F8_E4M3', 'f32', '', 7, null, ['F32'], 'BF16 ', 'F4']);
      break;
    case 4:
      target['shape'] = rng.pick([null, 'x', [1.5], [-2], [[1]], {}, [true], Array.from({ length: 1000 }, () => 1)]);
      break;
    case 5:
      target['data_offsets'] = rng.pick([null, [1], [0, 1, 2], ['0', '4'], [4, 0], {}, [0, -4]]);
      break;
    case 6:
      delete target[rng.pick(['dtype', 'shape', 'data_offsets'])];
      break;
    case 7:
      header['__metadata__'] = rng.pick([null, 'x', [1], { a: { b: 'c' } }, 5]);
      break;
    case 8: {
      // Two tensors on one span (overlap), or one tensor spanning all.
      header['dup'] = { ...target };
      break;
    }
    case 9:
      header[randomName(rng)] = rng.pick([null, 1, 'x', [], true]);
      break;
    case 10: {
      // Many tiny tensors: work proportional to the header, never more.
      const many: Record<string, unknown> = {};
      const count = rng.range(200, 5000);
      for (let i = 0; i < count; i++) many[`t${i}`] = { dtype: 'U8', shape: [1], data_offsets: [i, i + 1] };
      return withHeader(JSON.stringify(many), count, rng);
    }
    case 11: {
      // Deep nesting: the JSON parser must not overflow the stack (or, if it refuses, say so).
      const depth = rng.range(100, 50_000);
      return withHeader(`{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`, 0, rng);
    }
    case 12:
      return withHeader(rng.pick(['[]', 'null', '1', '"x"', 'true', '{}', '{"a":1}', '\uFEFF{}', '{} {}', '{"__metadata__":{}}']), rng.int(8), rng);
    default:
      target['data_offsets'] = [0, dataLen + rng.range(1, 1e9)];
  }
  return withHeader(jsonObject(Object.entries(header)), dataLen, rng);
}

/** Byte-level mutations of a valid file. */
function byteMutation(rng: Rng): Uint8Array {
  const { bytes } = wellFormed(rng);
  let out = bytes;
  const edits = rng.range(1, 4);
  for (let e = 0; e < edits; e++) {
    switch (rng.int(7)) {
      case 0: {
        if (out.length === 0) break;
        const i = rng.int(out.length);
        out[i]! ^= 1 << rng.int(8);
        break;
      }
      case 1: {
        if (out.length === 0) break;
        out[rng.int(out.length)] = rng.pick([0, 0x22, 0x5b, 0x7b, 0x7d, 0x2c, 0x3a, 0xff, 0xc3, 0x2d, 0x30, 0x39]);
        break;
      }
      case 2:
        out = out.slice(0, rng.int(out.length + 1)); // truncation
        break;
      case 3: {
        const extra = new Uint8Array(rng.int(64)).map(() => rng.int(256));
        const grown = new Uint8Array(out.length + extra.length);
        grown.set(out);
        grown.set(extra, out.length);
        out = grown;
        break;
      }
      case 4: {
        if (out.length < 8) break;
        // The header length field: huge, just too long, just too short, or random.
        const size = out.length;
        const v = rng.pick([2n ** 64n - 1n, 2n ** 63n, BigInt(size), BigInt(size - 7), BigInt(Math.max(0, size - 9)), 100_000_001n, 0n, BigInt(rng.int(2 ** 31))]);
        new DataView(out.buffer, out.byteOffset).setBigUint64(0, v, true);
        break;
      }
      case 5: {
        // Overwrite a run with random bytes (invalid UTF-8 included).
        const at = rng.int(out.length + 1);
        for (let i = at; i < Math.min(out.length, at + rng.range(1, 16)); i++) out[i] = rng.int(256);
        break;
      }
      default: {
        // Replace a digit run in the header with a huge number.
        const text = Buffer.from(out).toString('latin1');
        const m = [...text.matchAll(/\d+/g)];
        if (m.length === 0) break;
        const hit = rng.pick(m);
        const replaced = text.slice(0, hit.index) + rng.pick(['99999999999999999999', '1e400', '-1', '4503599627370497']) + text.slice(hit.index! + hit[0].length);
        out = Uint8Array.from(Buffer.from(replaced, 'latin1'));
      }
    }
  }
  return out;
}

function randomBytes(rng: Rng): Uint8Array {
  const out = new Uint8Array(rng.int(rng.chance(0.5) ? 16 : 300));
  for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
  return out;
}

// ---- checks -------------------------------------------------------------------------------------------

/** What must hold of any header the parser accepts. */
function acceptedProblems(tensors: TensorInfo[], fileSize: number, headerEnd: number): string | undefined {
  const spans: [number, number][] = [];
  for (const t of tensors) {
    const elems = t.shape.reduce((p, d) => p * BigInt(d), 1n);
    if (elems * BigInt(DTYPE_BYTES[t.dtype]) !== BigInt(t.byteLength)) return `tensor '${t.name}': shape × dtype ≠ byteLength`;
    if (t.offset < headerEnd || t.offset + t.byteLength > fileSize) return `tensor '${t.name}' lies outside the data region`;
    if (t.byteLength > 0) spans.push([t.offset, t.offset + t.byteLength]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i]![0] < spans[i - 1]![1]) return 'accepted overlapping tensors';
  return undefined;
}

const GENERATORS: [string, number, (rng: Rng) => { bytes: Uint8Array; specs?: Spec[] }][] = [
  ['well-formed', 2, (rng) => wellFormed(rng)],
  ['byte-mutation', 4, (rng) => ({ bytes: byteMutation(rng) })],
  ['json-mutation', 3, (rng) => ({ bytes: jsonMutation(rng) })],
  ['random-bytes', 1, (rng) => ({ bytes: randomBytes(rng) })],
];

export function fuzzSafetensors(o: FuzzOptions): FuzzReport {
  const rng = new Rng(o.seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'el-fuzz-st-'));
  const file = path.join(dir, 'case.safetensors');
  // One descriptor rewritten in place: a fresh writeFileSync per case costs ~20× more.
  const out = fs.openSync(file, 'w+');
  const report: FuzzReport = { cases: 0, accepted: 0, refused: 0, failures: [], slowestMs: 0, maxExtraBufferBytes: 0, byGenerator: {}, cpuMsByGenerator: {} };
  const started = Date.now();
  const weights = GENERATORS.map((g) => g[1]);
  try {
    for (let c = 0; c < o.cases; c++) {
      if (o.budgetMs !== undefined && Date.now() - started > o.budgetMs) break;
      const [genName, , gen] = GENERATORS[rng.weighted(weights)]!;
      const { bytes, specs } = gen(rng.fork());
      fs.writeSync(out, bytes, 0, bytes.length, 0);
      fs.ftruncateSync(out, bytes.length);
      report.cases++;
      report.byGenerator[genName] = (report.byGenerator[genName] ?? 0) + 1;
      const fail = (kind: string, message: string): void => {
        report.failures.push({ kind, message: `${genName}: ${message}`, bytesBase64: Buffer.from(bytes.subarray(0, 4096)).toString('base64'), caseIndex: c });
      };
      const buffersBefore = process.memoryUsage().arrayBuffers;
      // CPU time, not wall time: on a shared machine a case can wait seconds for a core.
      const cpu0 = process.cpuUsage();
      try {
        const { tensors } = readSafetensorsHeader(file);
        report.accepted++;
        const headerLen = bytes.length >= 8 ? Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) : 0;
        const problem = acceptedProblems(tensors, bytes.length, 8 + headerLen);
        if (problem) fail('accepted-invalid', problem);
        if (specs && tensors.length !== specs.length) fail('lost-tensors', `${specs.length} tensors written, ${tensors.length} read`);
        if (specs) {
          for (const s of specs) {
            const t = tensors.find((x) => x.name === s.name);
            if (!t || t.byteLength !== s.end - s.begin || t.offset !== 8 + headerLen + s.begin || t.dtype !== s.dtype) fail('misread', `tensor '${s.name.slice(0, 40)}' read back wrong`);
          }
        }
      } catch (err) {
        if (err instanceof UserError) report.refused++;
        else fail('uncaught', `${(err as Error)?.name}: ${String((err as Error)?.message).slice(0, 300)}`);
      }
      const cpu = process.cpuUsage(cpu0);
      const ms = (cpu.user + cpu.system) / 1000;
      const extra = process.memoryUsage().arrayBuffers - buffersBefore;
      report.slowestMs = Math.max(report.slowestMs, ms);
      report.cpuMsByGenerator[genName] = (report.cpuMsByGenerator[genName] ?? 0) + ms;
      report.maxExtraBufferBytes = Math.max(report.maxExtraBufferBytes, extra);
      if (ms > SLOW_MS) fail('slow', `${ms.toFixed(0)} ms of CPU for a ${bytes.length}-byte file`);
      if (extra > 4 * bytes.length + BUFFER_SLACK) fail('allocation', `${extra} bytes of buffers left allocated after parsing a ${bytes.length}-byte file`);
    }
  } finally {
    fs.closeSync(out);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

function main(argv: string[]): void {
  const arg = (name: string, fallback: number): number => {
    const i = argv.indexOf(name);
    if (i < 0) return fallback;
    const v = Number(argv[i + 1]);
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} needs a non-negative integer, got ${argv[i + 1]}`);
    return v;
  };
  const cases = arg('--cases', 10_000);
  const seed = arg('--seed', 1);
  const t0 = Date.now();
  const r = fuzzSafetensors({ cases, seed });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`safetensors header fuzz: ${r.cases} cases (seed ${seed}) in ${s} s on ${os.cpus()[0]?.model ?? 'unknown CPU'}`);
  console.log(`  by generator: ${Object.entries(r.byGenerator).map(([k, v]) => `${k} ${v} (${((r.cpuMsByGenerator[k] ?? 0) / 1000).toFixed(1)} s CPU)`).join(', ')}`);
  console.log(`  accepted ${r.accepted}, refused with a UserError ${r.refused}, failures ${r.failures.length}`);
  console.log(`  slowest case ${r.slowestMs.toFixed(1)} ms of CPU, most buffer memory left after a case ${(r.maxExtraBufferBytes / 1024).toFixed(0)} KiB`);
  for (const f of r.failures.slice(0, 20)) console.log(`  FAIL [${f.kind}] case ${f.caseIndex}: ${f.message}\n    bytes (base64, first 4 KiB): ${f.bytesBase64.slice(0, 200)}…`);
  if (r.failures.length > 0) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
