/** Reading a results dataset: manifest, shards, rows, sample ids. */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { UserError } from '../util/errors.js';
import { MANIFEST_FORMAT, RESERVED_COLUMNS, type LabelType, type LabelValue, type Manifest, type ResultRow } from './schema.js';

export const MANIFEST_FILE = 'manifest.json';
const SHARD_RE = /^part-\d+\.parquet$/;

/** Shard files present in a dataset folder, in order. */
export async function shardFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => SHARD_RE.test(f)).sort();
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UserError(`no manifest.json in ${dir}: not a results dataset (write one with the store's ResultsWriter)`);
  }
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (err) {
    throw new UserError(`${path} is not valid JSON (${(err as Error).message}); restore it or delete the folder`);
  }
  if (m.format !== MANIFEST_FORMAT) throw new UserError(`${path} is not an entropylens results manifest (format '${String(m.format)}')`);
  return m;
}

async function loadBuffer(path: string): Promise<ArrayBuffer> {
  const b = await readFile(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** The sample_id column of one shard (for resuming). */
export async function readSampleIds(path: string): Promise<string[]> {
  const rows = await parquetReadObjects({ file: await loadBuffer(path), columns: ['sample_id'] });
  return rows.map((r) => String(r.sample_id));
}

export interface ReadOptions {
  /** Keep only these metrics. */
  metric?: string | readonly string[];
  /** Keep only this model (a dataset usually holds one). */
  model?: string;
}

export interface ResultsDataset {
  /** The folder's manifest; for a lone Parquet file, one reconstructed from its columns. */
  manifest: Manifest;
  rows: ResultRow[];
}

function toLabel(v: unknown): LabelValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

/** Label column types of a shard written elsewhere (pandas, DuckDB …), from its Parquet schema. */
function labelTypesFromSchema(buf: ArrayBuffer): Record<string, LabelType> {
  const tree = parquetSchema(parquetMetadata(buf));
  const out: Record<string, LabelType> = {};
  for (const child of tree.children) {
    const el = child.element;
    if (RESERVED_COLUMNS.includes(el.name) || child.children.length > 0) continue;
    out[el.name] = el.type === 'BOOLEAN' ? 'boolean' : el.type === 'INT32' || el.type === 'INT64' ? 'int' : el.type === 'FLOAT' || el.type === 'DOUBLE' ? 'double' : 'string';
  }
  return out;
}

function rowFrom(r: Record<string, unknown>, labelNames: string[], where: string): ResultRow {
  const values = r.values;
  if (!Array.isArray(values)) throw new UserError(`${where}: the values column is missing or not a list`);
  const row: ResultRow = {
    sample_id: String(r.sample_id),
    model: String(r.model ?? ''),
    experiment: String(r.experiment ?? ''),
    metric: String(r.metric ?? ''),
    labels: {},
    prompt: String(r.prompt ?? ''),
    completion: String(r.completion ?? ''),
    n_steps: Number(r.n_steps),
    n_layers: Number(r.n_layers),
    values: Float32Array.from(values as number[]),
  };
  for (const name of labelNames) row.labels[name] = toLabel(r[name]);
  if (row.values.length !== row.n_steps * row.n_layers) {
    throw new UserError(`${where}: sample ${row.sample_id} has ${row.values.length} values for ${row.n_steps} × ${row.n_layers}`);
  }
  return row;
}

/**
 * Loads a results dataset (a folder with manifest.json, or one Parquet file), optionally only some
 * metrics or one model. Rows come back in the order they were written.
 */
export async function readResults(path: string, opts: ReadOptions = {}): Promise<ResultsDataset> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UserError(`results not found: ${path} (pass a dataset folder or a .parquet file)`);
  }
  const metrics = opts.metric === undefined ? undefined : new Set(typeof opts.metric === 'string' ? [opts.metric] : opts.metric);
  const keep = (r: ResultRow): boolean => (!metrics || metrics.has(r.metric)) && (!opts.model || r.model === opts.model);

  if (info.isFile()) {
    const buf = await loadBuffer(path);
    const labelColumns = labelTypesFromSchema(buf);
    const raw = await parquetReadObjects({ file: buf });
    const rows = raw.map((r, i) => rowFrom(r, Object.keys(labelColumns), `${path} row ${i}`)).filter(keep);
    const first = rows[0];
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: 1,
      model: first?.model ?? '',
      experiment: first?.experiment ?? '',
      options: {},
      codeVersion: 'unknown',
      labelColumns,
      createdAt: '',
      updatedAt: '',
      shards: [{ file: basename(path), rows: raw.length, samples: new Set(raw.map((r) => r.sample_id)).size, createdAt: '' }],
    };
    return { manifest, rows };
  }

  const manifest = await readManifest(path);
  const listed = manifest.shards.map((s) => s.file);
  // A shard renamed into place after the last manifest update is complete: read it too.
  const orphans = (await shardFiles(path)).filter((f) => !listed.includes(f));
  const labelNames = Object.keys(manifest.labelColumns);
  const rows: ResultRow[] = [];
  for (const file of [...listed, ...orphans]) {
    const full = join(path, file);
    let raw: Record<string, unknown>[];
    try {
      raw = await parquetReadObjects({ file: await loadBuffer(full) });
    } catch (err) {
      throw new UserError(`cannot read shard ${full}: ${(err as Error).message}`);
    }
    raw.forEach((r, i) => {
      const row = rowFrom(r, labelNames, `${full} row ${i}`);
      if (keep(row)) rows.push(row);
    });
  }
  return { manifest, rows };
}

/** The distinct metrics of a set of rows, in first-seen order. */
export function metricsOf(rows: readonly ResultRow[]): string[] {
  return [...new Set(rows.map((r) => r.metric))];
}
