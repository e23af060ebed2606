/**
 * Reading a results dataset: the union of its part files, one row per (sample_id, metric) (a sample
 * that two writers both wrote counts once), in the run's sample order. A sharded run with shards still
 * missing is refused unless the caller asks for partial data.
 */
import fs from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { PART_RE, missingShards, partFiles, readManifest, readWriterRecords } from './layout.js';
import { decodePart, decodePartTokens, labelTypesOf, loadPart, topKOfPart } from './parquet.js';
import { MANIFEST_FORMAT, type Manifest, type ResultRow, type ShardInfo, type StepTokens } from './schema.js';

export { MANIFEST_FILE, readManifest, partFiles as shardFiles } from './layout.js';
export { readSampleIds } from './parquet.js';

export interface ReadOptions {
  /** Keep only these metrics. */
  metric?: string | readonly string[];
  /** Keep only this model (a dataset usually holds one). */
  model?: string;
  /** Read a sharded run whose shards are not all complete (default: refuse, naming the missing ones). */
  partial?: boolean;
  /** Also read the token columns (datasets written with top-k); off by default, as they are large. */
  tokens?: boolean;
}

export interface ResultsDataset {
  /** The folder's manifest (`shards`: the part files read); for a lone Parquet file, one reconstructed from its columns. */
  manifest: Manifest;
  rows: ResultRow[];
  /** Rows left out because the same (sample_id, metric) had already been read from another part file. */
  duplicateRows: number;
  /** Shards of a sharded run that are not complete (read with `partial`). */
  missingShards: number[];
}

/** The run's sample order where every row knows its place; the order of the files otherwise (older data). */
function sortBySampleIndex(rows: ResultRow[]): ResultRow[] {
  if (rows.some((r) => r.sample_index === null || r.sample_index === undefined)) return rows;
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.sample_index! - b.r.sample_index! || a.i - b.i)
    .map((x) => x.r);
}

/** The missing shards of a sharded dataset, as a message. */
export function missingShardsMessage(dir: string, count: number, missing: readonly number[]): string {
  const list = missing.length > 12 ? `${missing.slice(0, 12).join(', ')} … (${missing.length} in all)` : missing.join(', ');
  return `${dir} is a run in ${count} shards and ${missing.length} ${missing.length === 1 ? 'is' : 'are'} not complete (shard ${list}); ` +
    `see \`entropylens status ${dir}\`, wait for them or rerun them, or pass --partial to use what is there`;
}

/**
 * Loads a results dataset (a folder with manifest.json, or one Parquet file), optionally only some
 * metrics or one model.
 */
export async function readResults(path: string, opts: ReadOptions = {}): Promise<ResultsDataset> {
  let info;
  try {
    info = await fs.promises.stat(path);
  } catch {
    throw new UserError(`results not found: ${path} (pass a dataset folder or a .parquet file)`);
  }
  const metrics = opts.metric === undefined ? undefined : new Set(typeof opts.metric === 'string' ? [opts.metric] : opts.metric);
  const keep = (r: ResultRow): boolean => (!metrics || metrics.has(r.metric)) && (!opts.model || r.model === opts.model);

  if (!info.isDirectory()) {
    const buf = await loadPart(path);
    const labelColumns = labelTypesOf(buf, path);
    const raw = await decodePart(buf, path, Object.keys(labelColumns), opts.tokens ?? false);
    const topK = topKOfPart(buf);
    const rows = raw.filter(keep);
    const first = rows[0];
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: 1,
      model: first?.model ?? '',
      experiment: first?.experiment ?? '',
      options: {},
      codeVersion: 'unknown',
      labelColumns,
      ...(topK !== undefined ? { topK } : {}),
      createdAt: '',
      updatedAt: '',
      shards: [{ file: basename(path), rows: raw.length, samples: new Set(raw.map((r) => r.sample_id)).size, createdAt: '' }],
    };
    return { manifest, rows: sortBySampleIndex(rows), duplicateRows: 0, missingShards: [] };
  }

  const manifest = await readManifest(path);
  let missing: number[] = [];
  if (manifest.sharding) {
    missing = missingShards(manifest.sharding.count, await readWriterRecords(path));
    if (missing.length > 0 && !opts.partial) throw new UserError(missingShardsMessage(path, manifest.sharding.count, missing));
  }
  // A merge may remove part files while we list and read: read the listing again when one vanishes.
  for (let attempt = 0; ; attempt++) {
    try {
      return { ...(await readParts(path, manifest, keep, opts.tokens ?? false)), missingShards: missing };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
      if (err instanceof UserError && /not found/.test(err.message) && attempt < 3) continue;
      throw err;
    }
  }
}

async function readParts(dir: string, manifest: Manifest, keep: (r: ResultRow) => boolean, tokens: boolean): Promise<Omit<ResultsDataset, 'missingShards'>> {
  const found = await partFiles(dir);
  const onDisk = new Set(found);
  for (const s of manifest.shards) {
    if (!onDisk.has(s.file)) throw new UserError(`${join(dir, s.file)} is listed in the manifest but missing: restore it, or remove its entry from manifest.json and resume the run to redo its samples`);
  }
  const labelColumns = { ...manifest.labelColumns };
  const parts: { file: string; buf: ArrayBuffer }[] = [];
  for (const file of found) {
    const buf = await loadPart(join(dir, file));
    // Label columns added by a later writer are typed by the file itself.
    for (const [name, type] of Object.entries(labelTypesOf(buf, join(dir, file)))) labelColumns[name] ??= type;
    parts.push({ file, buf });
  }
  const labelNames = Object.keys(labelColumns);
  // (sample_id, metric) → the part file its row is taken from. A sample's metrics may sit in several
  // parts (a writer may append them separately); two writers of one sample write the same keys.
  const owner = new Map<string, string>();
  const rows: ResultRow[] = [];
  const shards: ShardInfo[] = [];
  let duplicateRows = 0;
  for (const { file, buf } of parts) {
    const full = join(dir, file);
    const partRows = await decodePart(buf, full, labelNames, tokens);
    for (const r of partRows) {
      const key = `${r.sample_id}\u0000${r.metric}`;
      const first = owner.get(key);
      if (first === undefined) owner.set(key, file);
      else if (first !== file) {
        duplicateRows++;
        continue;
      }
      if (keep(r)) rows.push(r);
    }
    const mtime = (await fs.promises.stat(full).catch(() => undefined))?.mtime.toISOString() ?? '';
    shards.push({ file, rows: partRows.length, samples: new Set(partRows.map((r) => r.sample_id)).size, createdAt: mtime });
  }
  return { manifest: { ...manifest, labelColumns, shards }, rows: sortBySampleIndex(rows), duplicateRows };
}

/**
 * The token columns of every row of one part file (by row index), for rows read earlier without
 * them (each row's `source` names its part file and index); `path` is the dataset folder, or a lone
 * Parquet file. Undefined when the dataset has no token columns.
 */
export async function readShardTokens(path: string, file: string): Promise<(StepTokens | undefined)[] | undefined> {
  const info = await fs.promises.stat(path);
  let full = path;
  if (info.isDirectory()) {
    // Only a part file of the folder itself: never a path that leads elsewhere.
    if (!PART_RE.test(file)) throw new UserError(`${file} is not a part file name of ${path}`);
    full = join(path, file);
  }
  return decodePartTokens(await loadPart(full), full);
}

/** The distinct metrics of a set of rows, in first-seen order. */
export function metricsOf(rows: readonly ResultRow[]): string[] {
  return [...new Set(rows.map((r) => r.metric))];
}
