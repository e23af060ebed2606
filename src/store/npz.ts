/**
 * NumPy's .npz: a zip archive of .npy arrays (stored, not compressed), readable by `numpy.load`.
 * Written here from the formats' specifications (NEP 1 for .npy; PKWARE's APPNOTE for zip).
 */
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';

export type NpyArray =
  | { dtype: 'f4'; shape: number[]; data: Float32Array }
  | { dtype: 'f8'; shape: number[]; data: Float64Array }
  | { dtype: 'i4'; shape: number[]; data: Int32Array };

/** One .npy file: magic, version 1.0, a header dict padded to 64 bytes, then little-endian data. */
export function npyBytes(a: NpyArray): Uint8Array {
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (count !== a.data.length) throw new Error(`npy: shape [${a.shape.join(', ')}] holds ${count} values, the data ${a.data.length}`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '<${a.dtype}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + a.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY, version 1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), 10 + header.length);
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of the given files, stored without compression (what numpy.savez writes too). */
export function zipStored(files: { name: string; data: Uint8Array }[]): Uint8Array {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    if (f.data.length >= 0xffffffff || offset >= 0xffffffff) throw new UserError(`--npz: ${f.name} makes the archive larger than 4 GB (zip64 is not written); profile fewer prompts per file`);
    const crc = crc32(f.data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4); // version needed
    head.writeUInt16LE(0x0800, 6); // UTF-8 names
    head.writeUInt16LE(0, 8); // stored
    head.writeUInt32LE(crc, 14);
    head.writeUInt32LE(f.data.length, 18);
    head.writeUInt32LE(f.data.length, 22);
    head.writeUInt16LE(name.length, 26);
    local.push(head, name, Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength));
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(0x0800, 8);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(f.data.length, 20);
    cen.writeUInt32LE(f.data.length, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt32LE(offset, 42);
    central.push(cen, name);
    offset += 30 + name.length + f.data.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, dir, end]);
}

/** Writes `arrays` (name → array) as one .npz file, atomically. */
export async function writeNpz(file: string, arrays: Record<string, NpyArray>): Promise<void> {
  const bytes = zipStored(Object.entries(arrays).map(([name, a]) => ({ name: `${name}.npy`, data: npyBytes(a) })));
  try {
    await writeFileAtomic(file, bytes);
  } catch (err) {
    throw new UserError(`cannot write --npz ${file}: ${(err as Error).message}`);
  }
}
