/** Rows of Parquet, JSON Lines, JSON, CSV and TinyStories .txt data files, as plain objects. */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { UserError } from '../util/errors.js';
import { assertRegularFile, readRegularFile } from '../util/files.js';
import { listFilesRecursive } from '../hub/cache.js';
import { DATA_EXTENSIONS, selectSplitFiles, type SplitQuery } from '../hub/split-files.js';
import { csvRecords } from './csv.js';

export type Row = Record<string, unknown>;

export interface ReadOptions {
  /** Stop after this many rows. */
  limit?: number;
}

/** A data file's rows plus the column names it has (for messages about a missing column). */
export interface FileRows {
  file: string;
  columns: string[];
  rows: Row[];
}

/** INT64 columns come back as bigint; rows are plain JSON-like values for the rest of the code. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<unknown>, plain);
  return value;
}

function plainRow(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = plain(v);
  return out;
}

export async function readParquet(file: string, opts: ReadOptions = {}): Promise<FileRows> {
  let buffer;
  let columns: string[];
  try {
    await assertRegularFile(file, 'data file');
    buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
    const rows = await parquetReadObjects({ file: buffer, metadata, ...(opts.limit !== undefined ? { rowEnd: opts.limit } : {}) });
    return { file, columns, rows: rows.map(plainRow) };
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`Cannot read Parquet file ${file} (${(err as Error).message}): is it a complete Parquet file? Delete a partial download and run again.`);
  }
}

export async function readJsonl(file: string, opts: ReadOptions = {}): Promise<FileRows> {
  const text = await readRegularFile(file, 'data file');
  const rows: Row[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (opts.limit !== undefined && rows.length >= opts.limit) break;
    const line = lines[i]!.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new UserError(`${file}:${i + 1}: not valid JSON (${(err as Error).message}); JSONL needs one JSON object per line.`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new UserError(`${file}:${i + 1}: expected a JSON object per line, got ${Array.isArray(value) ? 'an array' : typeof value}.`);
    }
    rows.push(value as Row);
  }
  return { file, columns: columnsOf(rows), rows };
}

/** `.json`: an array of objects, or (as `datasets` also accepts) JSON Lines under a .json name. */
export async function readJson(file: string, opts: ReadOptions = {}): Promise<FileRows> {
  const text = await readRegularFile(file, 'data file');
  if (!text.trimStart().startsWith('[')) return readJsonl(file, opts);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message}).`);
  }
  const rows = (value as unknown[]).filter((r): r is Row => r !== null && typeof r === 'object' && !Array.isArray(r));
  const limited = opts.limit !== undefined ? rows.slice(0, opts.limit) : rows;
  return { file, columns: columnsOf(limited), rows: limited };
}

export async function readCsv(file: string, opts: ReadOptions = {}): Promise<FileRows> {
  const text = await readRegularFile(file, 'data file');
  const { header, records: rows } = csvRecords(text, file);
  const limited = opts.limit !== undefined ? rows.slice(0, opts.limit) : rows;
  return { file, columns: header, rows: limited };
}

export const END_OF_TEXT = '<|endoftext|>';

/**
 * The TinyStories `.txt` dumps: stories separated by `<|endoftext|>` (on its own line). Each story is
 * trimmed of the surrounding blank lines the separator leaves; empty stories are dropped.
 */
export async function readTinyStoriesTxt(file: string, opts: ReadOptions = {}): Promise<FileRows> {
  const text = await readRegularFile(file, 'data file');
  const rows: Row[] = [];
  for (const part of text.split(END_OF_TEXT)) {
    if (opts.limit !== undefined && rows.length >= opts.limit) break;
    const story = part.trim();
    if (story) rows.push({ text: story });
  }
  return { file, columns: ['text'], rows };
}

function columnsOf(rows: Row[]): string[] {
  const set = new Set<string>();
  for (const r of rows.slice(0, 100)) for (const k of Object.keys(r)) set.add(k);
  return [...set];
}

/** Read any supported data file, by its extension. */
export async function readDataFile(file: string, opts: ReadOptions = {}): Promise<FileRows> {
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet')) return readParquet(file, opts);
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return readJsonl(file, opts);
  if (lower.endsWith('.json')) return readJson(file, opts);
  if (lower.endsWith('.csv')) return readCsv(file, opts);
  if (lower.endsWith('.txt')) return readTinyStoriesTxt(file, opts);
  throw new UserError(`Unsupported data file ${file}: use Parquet, JSONL, JSON, CSV or a TinyStories .txt dump.`);
}

/** Rows of several files in order (the shards of one split), up to `limit` in all. */
export async function readDataFiles(files: string[], opts: ReadOptions = {}): Promise<FileRows[]> {
  const out: FileRows[] = [];
  let left = opts.limit;
  for (const file of files) {
    if (left !== undefined && left <= 0) break;
    const part = await readDataFile(file, left !== undefined ? { limit: left } : {});
    out.push(part);
    if (left !== undefined) left -= part.rows.length;
  }
  return out;
}

/**
 * Data files of one split in a local folder laid out like a hub dataset repo (or the config folder
 * itself, e.g. `mmlu/all`). A folder with a single data file is taken as that file.
 */
export async function localSplitFiles(folder: string, query: SplitQuery): Promise<string[]> {
  const dir = resolve(folder);
  const files = await listFilesRecursive(dir);
  let chosen = selectSplitFiles(files, query);
  if (chosen.length === 0 && query.config) chosen = selectSplitFiles(files, { split: query.split });
  const data = files.filter((f) => DATA_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e)));
  if (chosen.length === 0 && data.length === 1) chosen = data;
  if (chosen.length === 0) {
    throw new UserError(
      `Folder ${dir} has no data files for ${query.config ? `config ${query.config}, ` : ''}split ${query.split} (data files found: ${data.slice(0, 10).join(', ') || 'none'}): name files like ${query.config ? `${query.config}/` : ''}${query.split}-00000-of-00001.parquet, or pass the file itself.`,
    );
  }
  return chosen.map((f) => join(dir, f));
}

export async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return undefined;
  }
}
