/**
 * Safetensors writers for tests. `writeSafetensors` is the real writer (re-exported); the raw
 * writer puts arbitrary header bytes and data on disk, so tests can build broken files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export { writeSafetensors, type TensorToWrite, type TensorData } from '../../src/models/safetensors-write.js';

export interface RawOptions {
  /** Overrides the 8-byte header length field. */
  headerLength?: bigint;
  /** Header text used verbatim instead of JSON.stringify(header). */
  headerText?: string;
}

/** Writes `len(header) | header | data` with no checks at all. */
export function writeRawSafetensors(file: string, header: unknown, data: Uint8Array | number, opts: RawOptions = {}): void {
  const json = Buffer.from(opts.headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.headerLength ?? BigInt(json.length));
  const body = typeof data === 'number' ? Buffer.alloc(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([len, json, body]));
}

/** A fresh temp folder; the caller removes it (use `t.after`). */
export function tempDir(prefix = 'entropylens-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
