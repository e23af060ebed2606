import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../src/util/errors.js';
import { bf16ToFloat32, f16ToFloat32, readSafetensorsHeader, readTensorFloat32 } from '../../src/models/safetensors.js';
import { f32ToBf16Bits, f32ToF16Bits } from '../../src/models/safetensors-write.js';
import { tempDir, writeRawSafetensors, writeSafetensors } from '../helpers/safetensors-writer.js';

// Reference decoders from the format definitions, in float64 arithmetic (independent of the bit tricks under test).
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  if (e === 0) return s * m * 2 ** -24;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}
function bf16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 7) & 0xff;
  const m = h & 0x7f;
  if (e === 255) return m === 0 ? s * Infinity : NaN;
  if (e === 0) return s * 2 ** -126 * (m / 128);
  return s * 2 ** (e - 127) * (1 + m / 128);
}
function sameValue(actual: number, expected: number, what: string): void {
  if (Number.isNaN(expected)) assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
  else assert.ok(Object.is(actual, expected), `${what}: expected ${expected}, got ${actual}`);
}
/** Adjacent float32 values around x (x must be a finite positive float32). */
function f32Neighbours(x: number): [number, number] {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  assert.equal(f[0], x, 'test midpoint must be a float32');
  const base = u[0];
  u[0] = base - 1;
  const down = f[0];
  u[0] = base + 1;
  return [down, f[0]];
}

function expectUserError(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message should mention ${JSON.stringify(p)}: ${e.message}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

test('f16 upcast is exact for all 65536 bit patterns (subnormals, ±0, inf, nan)', () => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const f = f16ToFloat32(bits);
  for (let h = 0; h < 65536; h++) sameValue(f[h], halfValue(h), `half 0x${h.toString(16)}`);
});

test('bf16 upcast is exact for all 65536 bit patterns', () => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const f = bf16ToFloat32(bits);
  for (let h = 0; h < 65536; h++) sameValue(f[h], bf16Value(h), `bf16 0x${h.toString(16)}`);
});

function checkRounding(name: string, decode: (h: number) => number, encode: (x: Float32Array) => Uint16Array, maxFinite: number): void {
  // For every pair of adjacent positive finite values: the midpoint ties to the even pattern,
  // one float32 step either side goes to the nearer one; the same for negatives.
  const mids: number[] = [];
  const expected: number[] = [];
  for (let h = 0; h < maxFinite; h++) {
    const mid = (decode(h) + decode(h + 1)) / 2;
    const [below, above] = f32Neighbours(mid);
    const even = h % 2 === 0 ? h : h + 1;
    mids.push(mid, below, above, -mid, -below, -above);
    expected.push(even, h, h + 1, even | 0x8000, h | 0x8000, (h + 1) | 0x8000);
  }
  const got = encode(Float32Array.from(mids));
  for (let i = 0; i < mids.length; i++) {
    if (got[i] !== expected[i]) {
      assert.fail(`${name}(${mids[i]}) = 0x${got[i].toString(16)}, expected 0x${expected[i].toString(16)}`);
    }
  }
  // Exactly representable values round-trip.
  const all = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) all[h] = decode(h);
  const rt = encode(all);
  for (let h = 0; h < 65536; h++) {
    if (Number.isNaN(all[h])) assert.ok(Number.isNaN(decode(rt[h])), `${name} keeps NaN 0x${h.toString(16)}`);
    else assert.equal(rt[h], h, `${name} round-trip of 0x${h.toString(16)}`);
  }
}

test('float32 → f16 is correctly rounded (ties to even), overflow and underflow', () => {
  checkRounding('f16', halfValue, f32ToF16Bits, 0x7bff);
  const [, after65520] = f32Neighbours(65520);
  const [before65520] = f32Neighbours(65520);
  const got = f32ToF16Bits([65504, before65520, 65520, after65520, 1e9, -1e9, 2 ** -25, f32Neighbours(2 ** -25)[1], 2 ** -26, 1e-30]);
  assert.deepEqual(Array.from(got), [0x7bff, 0x7bff, 0x7c00, 0x7c00, 0x7c00, 0xfc00, 0, 1, 0, 0]);
  assert.ok(Number.isNaN(halfValue(f32ToF16Bits([NaN])[0])));
});

test('float32 → bf16 is round-to-nearest-even, overflow to inf', () => {
  checkRounding('bf16', bf16Value, f32ToBf16Bits, 0x7f7f);
  const u = new Uint32Array([0x7f7f7fff, 0x7f7f8000, 0x7f7fffff]);
  const got = f32ToBf16Bits(new Float32Array(u.buffer));
  assert.deepEqual(Array.from(got), [0x7f7f, 0x7f80, 0x7f80]);
  assert.ok(Number.isNaN(bf16Value(f32ToBf16Bits([NaN])[0])));
});

test('writer and reader agree on every dtype; offsets are absolute; metadata kept', (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'a.safetensors');
  const f32 = Float32Array.from({ length: 12 }, (_, i) => (i - 5) * 0.37);
  writeSafetensors(
    file,
    {
      f32: { dtype: 'F32', shape: [3, 4], data: f32 },
      f16: { dtype: 'F16', shape: [2], data: [1.5, -0.25] },
      bf16raw: { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0xc040]) },
      f64: { dtype: 'F64', shape: [2], data: new Float64Array([0.1, -3]) },
      i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-7n, 1n << 40n]) },
      i32: { dtype: 'I32', shape: [1], data: new Int32Array([-123456]) },
      i16: { dtype: 'I16', shape: [1], data: new Int16Array([-300]) },
      i8: { dtype: 'I8', shape: [1], data: new Int8Array([-5]) },
      u8: { dtype: 'U8', shape: [1], data: new Uint8Array([250]) },
      b: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      scalar: { dtype: 'F32', shape: [], data: [2.5] },
    },
    { format: 'pt' },
  );
  const { tensors, metadata } = readSafetensorsHeader(file);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.equal(tensors.length, 12);
  const raw = fs.readFileSync(file);
  const headerLen = Number(raw.readBigUInt64LE(0));
  assert.equal(headerLen % 8, 0, 'header padded to 8 bytes');
  const byName = new Map(tensors.map((x) => [x.name, x]));
  const t0 = byName.get('f32')!;
  assert.equal(t0.offset, 8 + headerLen);
  assert.deepEqual(t0.shape, [3, 4]);
  // The reader's offsets point at the bytes the writer wrote.
  for (let i = 0; i < 12; i++) assert.equal(raw.readFloatLE(t0.offset + 4 * i), f32[i]);

  const fd = fs.openSync(file, 'r');
  try {
    const read = (n: string) => Array.from(readTensorFloat32(fd, byName.get(n)!));
    assert.deepEqual(read('f32'), Array.from(f32));
    assert.deepEqual(read('f16'), [1.5, -0.25]);
    assert.deepEqual(read('bf16raw'), [1, -3]);
    assert.deepEqual(read('f64'), [Math.fround(0.1), -3]);
    assert.deepEqual(read('i64'), [-7, 2 ** 40]);
    assert.deepEqual(read('i32'), [-123456]);
    assert.deepEqual(read('i16'), [-300]);
    assert.deepEqual(read('i8'), [-5]);
    assert.deepEqual(read('u8'), [250]);
    assert.deepEqual(read('b'), [1, 0]);
    assert.deepEqual(read('empty'), []);
    assert.deepEqual(read('scalar'), [2.5]);
  } finally {
    fs.closeSync(fd);
  }
});

test('large bf16/f16 tensors convert across chunk boundaries', (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'big.safetensors');
  const n = 5_000_003; // > one 8 MB chunk of 2-byte elements, and odd
  const bits = new Uint16Array(n);
  for (let i = 0; i < n; i++) bits[i] = (i * 2654435761) & 0xffff;
  writeSafetensors(file, { bf: { dtype: 'BF16', shape: [n], data: bits }, h: { dtype: 'F16', shape: [n], data: bits } });
  const { tensors } = readSafetensorsHeader(file);
  const fd = fs.openSync(file, 'r');
  try {
    const bf = readTensorFloat32(fd, tensors.find((x) => x.name === 'bf')!);
    const h = readTensorFloat32(fd, tensors.find((x) => x.name === 'h')!);
    for (let i = 0; i < n; i += 997) {
      sameValue(bf[i], bf16Value(bits[i]), `bf16[${i}]`);
      sameValue(h[i], halfValue(bits[i]), `f16[${i}]`);
    }
    sameValue(bf[n - 1], bf16Value(bits[n - 1]), 'last bf16');
    sameValue(h[n - 1], halfValue(bits[n - 1]), 'last f16');
  } finally {
    fs.closeSync(fd);
  }
});

test('header validation errors name the file and tensor', async (t) => {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = (name: string) => path.join(dir, name);
  const entry = (dtype: string, shape: unknown, offs: unknown) => ({ dtype, shape, data_offsets: offs });

  await t.test('shorter than 8 bytes', () => {
    fs.writeFileSync(f('short.safetensors'), Buffer.from([1, 2, 3]));
    expectUserError(() => readSafetensorsHeader(f('short.safetensors')), f('short.safetensors'), 'too short');
  });
  await t.test('header length beyond the file', () => {
    writeRawSafetensors(f('hlen.safetensors'), { a: entry('F32', [1], [0, 4]) }, 4, { headerLength: 1n << 40n });
    expectUserError(() => readSafetensorsHeader(f('hlen.safetensors')), f('hlen.safetensors'), `says ${1n << 40n} bytes`);
    writeRawSafetensors(f('hlen2.safetensors'), {}, 0, { headerLength: 0xffffffffffffffffn });
    expectUserError(() => readSafetensorsHeader(f('hlen2.safetensors')), f('hlen2.safetensors'), 'header length');
  });
  await t.test('bad JSON', () => {
    writeRawSafetensors(f('json.safetensors'), null, 0, { headerText: '{"a": {"dtype": "F32",' });
    expectUserError(() => readSafetensorsHeader(f('json.safetensors')), f('json.safetensors'), 'not valid');
  });
  await t.test('header not an object', () => {
    writeRawSafetensors(f('arr.safetensors'), [1, 2], 0);
    expectUserError(() => readSafetensorsHeader(f('arr.safetensors')), f('arr.safetensors'), 'JSON object');
    writeRawSafetensors(f('entry.safetensors'), { w: 5 }, 0);
    expectUserError(() => readSafetensorsHeader(f('entry.safetensors')), f('entry.safetensors'), "'w'");
  });
  await t.test('unknown dtype lists the known ones', () => {
    writeRawSafetensors(f('dtype.safetensors'), { 'layer.w': entry('F8_E4M3', [4], [0, 4]) }, 4);
    expectUserError(() => readSafetensorsHeader(f('dtype.safetensors')), f('dtype.safetensors'), "'layer.w'", 'F8_E4M3', 'BF16', 'F32');
  });
  await t.test('shape must be non-negative integers', () => {
    for (const shape of [[-1, 4], [1.5], 'x', [1, '2']]) {
      writeRawSafetensors(f('shape.safetensors'), { w: entry('F32', shape, [0, 4]) }, 4);
      expectUserError(() => readSafetensorsHeader(f('shape.safetensors')), f('shape.safetensors'), "'w'", 'shape');
    }
  });
  await t.test('bad data_offsets', () => {
    for (const offs of [[4, 0], [0], [-4, 0], 'x']) {
      writeRawSafetensors(f('offs.safetensors'), { w: entry('F32', [1], offs) }, 4);
      expectUserError(() => readSafetensorsHeader(f('offs.safetensors')), f('offs.safetensors'), "'w'", 'data_offsets');
    }
  });
  await t.test('shape/size mismatch', () => {
    writeRawSafetensors(f('size.safetensors'), { 'emb.weight': entry('BF16', [3, 4], [0, 48]) }, 48);
    expectUserError(() => readSafetensorsHeader(f('size.safetensors')), f('size.safetensors'), "'emb.weight'", 'needs 24 bytes', 'span 48');
    // A product beyond 2^53 must not pass by float rounding.
    writeRawSafetensors(f('huge.safetensors'), { h: entry('U8', [2 ** 27, 2 ** 27 + 1], [0, 0]) }, 0);
    expectUserError(() => readSafetensorsHeader(f('huge.safetensors')), f('huge.safetensors'), "'h'", 'needs');
  });
  await t.test('truncated file: offsets outside the data region', () => {
    const header = { a: entry('F32', [4], [0, 16]), b: entry('F32', [8], [16, 48]) };
    const headerLen = Buffer.byteLength(JSON.stringify(header));
    writeRawSafetensors(f('trunc.safetensors'), header, 30);
    const size = fs.statSync(f('trunc.safetensors')).size;
    assert.equal(size, 8 + headerLen + 30);
    expectUserError(
      () => readSafetensorsHeader(f('trunc.safetensors')),
      f('trunc.safetensors'),
      "'b'",
      'truncated',
      `expected at least ${8 + headerLen + 48} bytes, found ${size}`,
    );
  });
  await t.test('overlapping tensors', () => {
    const header = { a: entry('F32', [4], [0, 16]), b: entry('F32', [2], [8, 16]) };
    writeRawSafetensors(f('overlap.safetensors'), header, 16);
    expectUserError(() => readSafetensorsHeader(f('overlap.safetensors')), f('overlap.safetensors'), "'a'", "'b'", 'overlap');
  });
  await t.test('gaps and empty tensors are allowed', () => {
    const header = { a: entry('F32', [1], [0, 4]), z: entry('F32', [0], [2, 2]), b: entry('F32', [1], [12, 16]) };
    const data = new Uint8Array(16);
    new DataView(data.buffer).setFloat32(12, 7.25, true);
    writeRawSafetensors(f('gap.safetensors'), header, data);
    const { tensors } = readSafetensorsHeader(f('gap.safetensors'));
    const fd = fs.openSync(f('gap.safetensors'), 'r');
    try {
      assert.deepEqual(Array.from(readTensorFloat32(fd, tensors.find((x) => x.name === 'b')!)), [7.25]);
    } finally {
      fs.closeSync(fd);
    }
  });
  await t.test('missing file', () => {
    expectUserError(() => readSafetensorsHeader(f('nope.safetensors')), f('nope.safetensors'));
  });
});
