/**
 * The files of a results folder and their names: the manifest (validated field by field), the part
 * files (plain names inside the folder, regular files only), the writers' progress records.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { isTemporary } from '../util/atomic.js';
import { readRegularFile } from '../util/files.js';
import { nestsDeeperThan } from '../util/json.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, type LabelType, type Manifest, type ShardInfo, type WriterRecord } from './schema.js';

export const MANIFEST_FILE = 'manifest.json';
export const WRITERS_DIR = 'writers';
export const MERGE_LOCK = 'merge.lock';
/** Part files: `part-00000.parquet` (format 1), `part-<writer id>-<seq>.parquet` (format 2). */
export const PART_RE = /^part-[A-Za-z0-9_-]{1,100}\.parquet$/;
const LABEL_TYPES: readonly string[] = ['string', 'boolean', 'int', 'double'];
/** More shards than this is a damaged manifest, not a cluster job (status lists every shard). */
export const MAX_SHARDS = 100_000;
/** K of stored top-k columns: at most a vocabulary's size (the largest are a few hundred thousand). */
export const MAX_TOP_K = 1 << 24;
/** Options and labels of a real run take a few kilobytes; format 1 lists its part files too. */
const MAX_MANIFEST_CHARS = 64 << 20;

/** A fresh writer id: the run shard (if any) and 8 random hex digits, so two writers never share a name. */
export function newWriterId(shard: { index: number; count: number } | null): string {
  const rnd = randomBytes(4).toString('hex');
  return shard ? `s${shard.index}of${shard.count}-${rnd}` : rnd;
}

export function partName(writer: string, seq: number): string {
  return `part-${writer}-${String(seq).padStart(5, '0')}.parquet`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and checks a manifest's text. Every field is checked for its type, shard entries must be
 * plain part-file names inside the folder (no paths), and repeated entries are dropped.
 */
export function parseManifest(text: string, file: string): Manifest {
  if (text.length > MAX_MANIFEST_CHARS) throw new UserError(`${file} is ${text.length} characters long; a results manifest is a few kilobytes: this is not one (restore it, or move the folder away and rerun)`);
  if (nestsDeeperThan(text, 64)) throw new UserError(`${file} nests objects or arrays more than 64 levels deep: this is not a manifest entropylens wrote (restore it, or move the folder away and rerun)`);
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message}); restore it from a backup, or move the folder away and rerun`);
  }
  const bad = (what: string): UserError => new UserError(`${file}: ${what}; this is not a manifest entropylens wrote (restore it, or move the folder away and rerun)`);
  if (!isRecord(m)) throw bad('the manifest is not a JSON object');
  if (m.format !== MANIFEST_FORMAT) throw new UserError(`${file} is not an entropylens results manifest (format '${String(m.format)}')`);
  if (typeof m.version !== 'number' || !Number.isInteger(m.version) || m.version < 1) throw bad('"version" is not a positive integer');
  if (m.version > MANIFEST_VERSION) throw new UserError(`${file} was written by a newer entropylens (format version ${m.version}; this one reads up to ${MANIFEST_VERSION}): upgrade entropylens`);
  for (const k of ['model', 'experiment'] as const) if (typeof m[k] !== 'string') throw bad(`"${k}" is not a string`);
  if (m.options !== undefined && !isRecord(m.options)) throw bad('"options" is not an object');
  if (m.labelColumns !== undefined && !isRecord(m.labelColumns)) throw bad('"labelColumns" is not an object');
  for (const [name, type] of Object.entries((m.labelColumns as Record<string, unknown> | undefined) ?? {})) {
    if (typeof type !== 'string' || !LABEL_TYPES.includes(type)) throw bad(`label column '${name}' has type ${JSON.stringify(type)} (expected ${LABEL_TYPES.join(', ')})`);
  }
  if (m.shards !== undefined && !Array.isArray(m.shards)) throw bad('"shards" is not a list');
  const shards: ShardInfo[] = [];
  const seen = new Set<string>();
  for (const [i, s] of ((m.shards as unknown[] | undefined) ?? []).entries()) {
    if (!isRecord(s) || typeof s.file !== 'string') throw bad(`shard entry ${i} has no file name`);
    if (!PART_RE.test(s.file)) {
      throw new UserError(`${file}: shard entry ${i} names ${JSON.stringify(s.file)}, which is not a part file inside the folder; entropylens reads only its own part-*.parquet files next to the manifest`);
    }
    if (seen.has(s.file)) continue;
    seen.add(s.file);
    shards.push({ file: s.file, rows: Number(s.rows) || 0, samples: Number(s.samples) || 0, createdAt: String(s.createdAt ?? '') });
  }
  let sharding: Manifest['sharding'] = null;
  if (m.sharding !== undefined && m.sharding !== null) {
    const count = isRecord(m.sharding) ? m.sharding.count : undefined;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw bad(`"sharding.count" is not an integer from 1 to ${MAX_SHARDS}`);
    sharding = { count };
  }
  let topK: number | undefined;
  if (m.topK !== undefined && m.topK !== null && m.topK !== 0) {
    if (typeof m.topK !== 'number' || !Number.isInteger(m.topK) || m.topK < 0 || m.topK > MAX_TOP_K) throw bad(`"topK" is not an integer from 0 to ${MAX_TOP_K}`);
    topK = m.topK;
  }
  return {
    format: MANIFEST_FORMAT,
    version: m.version,
    model: m.model as string,
    experiment: m.experiment as string,
    options: (m.options as Record<string, unknown> | undefined) ?? {},
    codeVersion: typeof m.codeVersion === 'string' ? m.codeVersion : 'unknown',
    labelColumns: ((m.labelColumns as Record<string, LabelType> | undefined) ?? {}),
    ...(topK !== undefined ? { topK } : {}),
    createdAt: typeof m.createdAt === 'string' ? m.createdAt : '',
    updatedAt: typeof m.updatedAt === 'string' ? m.updatedAt : '',
    shards,
    sharding,
  };
}

export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new UserError(`no manifest.json in ${dir}: not a results dataset (write one with \`entropylens run\` or the store's ResultsWriter)`);
  return parseManifest(await readRegularFile(file, 'results manifest'), file);
}

/**
 * The part files of a folder, sorted by name. Only regular files count: a symbolic link, FIFO or
 * device under a part-file name is refused (it could point outside the folder or never end).
 */
export async function partFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await fs.promises.readdir(dir)) {
    if (!PART_RE.test(f)) continue;
    const st = await fs.promises.lstat(path.join(dir, f)).catch(() => undefined);
    if (!st) continue; // removed meanwhile (a merge)
    if (!st.isFile()) {
      throw new UserError(`${path.join(dir, f)} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: a results folder holds only the part files entropylens wrote; remove it`);
    }
    out.push(f);
  }
  return out.sort();
}

/** Removes temporaries that a killed writer left: older than a minute, of a process that no longer runs here. */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  const now = Date.now();
  for (const f of await fs.promises.readdir(dir)) {
    if (!isTemporary(f)) continue;
    const full = path.join(dir, f);
    const st = await fs.promises.lstat(full).catch(() => undefined);
    if (!st || now - st.mtimeMs < 60_000) continue;
    const pid = Number(/\.tmp-(\d+)-/.exec(f)?.[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    await fs.promises.rm(full, { force: true });
  }
}

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function hostName(): string {
  return os.hostname();
}

function parseWriterRecord(text: string): WriterRecord | undefined {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(r) || typeof r.writer !== 'string' || (r.state !== 'running' && r.state !== 'complete')) return undefined;
  const shard = isRecord(r.shard) && Number.isInteger(r.shard.index) && Number.isInteger(r.shard.count) ? { index: r.shard.index as number, count: r.shard.count as number } : null;
  return {
    writer: r.writer,
    shard,
    host: String(r.host ?? ''),
    pid: Number(r.pid) || 0,
    startedAt: String(r.startedAt ?? ''),
    updatedAt: String(r.updatedAt ?? ''),
    state: r.state,
    codeVersion: String(r.codeVersion ?? 'unknown'),
    samplesTotal: typeof r.samplesTotal === 'number' ? r.samplesTotal : null,
    samplesDone: Number(r.samplesDone) || 0,
    files: Array.isArray(r.files) ? r.files.filter((f): f is string => typeof f === 'string') : [],
  };
}

/** Every writer's progress record; unreadable ones are skipped (they only feed `status`). */
export async function readWriterRecords(dir: string): Promise<WriterRecord[]> {
  const wdir = path.join(dir, WRITERS_DIR);
  let names: string[];
  try {
    names = await fs.promises.readdir(wdir);
  } catch {
    return [];
  }
  const out: WriterRecord[] = [];
  for (const f of names.sort()) {
    if (!/^[A-Za-z0-9_-]{1,100}\.json$/.test(f)) continue;
    const text = await readRegularFile(path.join(wdir, f), 'writer record').catch(() => undefined);
    const r = text === undefined ? undefined : parseWriterRecord(text);
    if (r) out.push(r);
  }
  return out;
}

/** Shards of a sharded dataset that no writer has completed yet, in order. */
export function missingShards(count: number, records: readonly WriterRecord[]): number[] {
  const complete = new Set(records.filter((r) => r.state === 'complete' && r.shard?.count === count).map((r) => r.shard!.index));
  return Array.from({ length: count }, (_, i) => i).filter((i) => !complete.has(i));
}

/**
 * True when two model names name the same model: equal strings, or two paths to the same folder
 * (`./gpt2` and `/home/me/gpt2`). A comma-separated list (families) compares element by element.
 */
export function sameModel(a: string, b: string): boolean {
  if (a === b) return true;
  const as = a.split(','), bs = b.split(',');
  if (as.length !== bs.length) return false;
  return as.every((x, i) => x === bs[i] || samePath(x, bs[i]));
}

function samePath(a: string, b: string): boolean {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}
