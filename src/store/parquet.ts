/** One part file of a results dataset, to and from Parquet bytes (the column layout of schema.ts). */
import type { SchemaElement } from 'hyparquet';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { UserError } from '../util/errors.js';
import { readRegularFileBytes } from '../util/files.js';
import { basename } from 'node:path';
import { ID_COLUMNS, INDEX_COLUMN, RESERVED_COLUMNS, TOKEN_COLUMNS, type LabelType, type LabelValue, type Manifest, type ResultRow, type ResultRowInput, type StepTokens } from './schema.js';

const PARQUET_TYPE: Record<LabelType, Pick<SchemaElement, 'type' | 'converted_type'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  boolean: { type: 'BOOLEAN' },
  int: { type: 'INT32' },
  double: { type: 'DOUBLE' },
};

function checkLabelValue(type: LabelType, v: LabelValue | undefined, where: string): LabelValue {
  if (v === undefined || v === null) return null;
  const ok =
    (type === 'string' && typeof v === 'string') ||
    (type === 'boolean' && typeof v === 'boolean') ||
    (type === 'int' && typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 0x7fffffff) ||
    (type === 'double' && typeof v === 'number');
  if (!ok) throw new UserError(`${where}: ${JSON.stringify(v)} is not a ${type}, as the column was declared`);
  return v;
}

/** The token columns of one row, checked against the dataset's K, as the Parquet encoder wants them (plain arrays). */
function tokenCells(r: ResultRowInput, topK: number, where: string): [number[], number[], number[]] {
  const n = r.n_steps * r.n_layers * topK;
  const t = r.tokens;
  if (!t || t.generated_ids.length !== r.n_steps || t.topk_ids.length !== n || t.topk_probs.length !== n) {
    throw new UserError(`${where}: the dataset stores top-${topK} tokens, so each row needs ${r.n_steps} generated ids and top-k ids and probs of n_steps × n_layers × ${topK} = ${n} entries`);
  }
  const gen = Array.from(t.generated_ids);
  const ids = Array.from(t.topk_ids);
  const isId = (id: number): boolean => Number.isInteger(id) && id >= 0 && id <= 0x7fffffff;
  if (!gen.every(isId) || !ids.every(isId)) throw new UserError(`${where}: token ids must be non-negative 32-bit integers`);
  return [gen, ids, Array.from(t.topk_probs, (v) => Math.fround(v))];
}

/** Checks `rows` against the manifest's columns and encodes them as one Parquet file. */
export function encodePart(rows: readonly ResultRowInput[], m: Pick<Manifest, 'model' | 'experiment' | 'labelColumns' | 'codeVersion' | 'topK'>): Uint8Array {
  if (rows.length === 0) throw new UserError('a part file needs at least one row');
  const labelNames = Object.keys(m.labelColumns);
  const topK = m.topK ?? 0;
  const cols: Record<string, unknown[]> = {};
  for (const c of [...ID_COLUMNS, ...labelNames, 'prompt', 'completion', 'n_steps', 'n_layers', 'values', INDEX_COLUMN, ...(topK > 0 ? TOKEN_COLUMNS : [])]) cols[c] = [];
  rows.forEach((r, i) => {
    const where = `row ${i} (sample ${r.sample_id}, metric ${r.metric})`;
    if (typeof r.sample_id !== 'string' || r.sample_id === '') throw new UserError(`row ${i}: sample_id must be a non-empty string`);
    if (typeof r.metric !== 'string' || r.metric === '') throw new UserError(`${where}: metric must be a non-empty string`);
    for (const name of Object.keys(r.labels ?? {})) {
      if (!(name in m.labelColumns)) throw new UserError(`${where}: label '${name}' is not declared; pass it in labelColumns when opening the dataset`);
    }
    if (!Number.isInteger(r.n_steps) || !Number.isInteger(r.n_layers) || r.n_steps < 0 || r.n_layers < 0) {
      throw new UserError(`${where}: n_steps and n_layers must be non-negative integers`);
    }
    if (r.values.length !== r.n_steps * r.n_layers) {
      throw new UserError(`${where}: values has ${r.values.length} entries, expected n_steps × n_layers = ${r.n_steps} × ${r.n_layers}`);
    }
    if (r.sample_index !== undefined && !(Number.isInteger(r.sample_index) && r.sample_index >= 0 && r.sample_index <= 0x7fffffff)) {
      throw new UserError(`${where}: sample_index must be a non-negative 32-bit integer`);
    }
    cols.sample_id.push(r.sample_id);
    cols.model.push(r.model ?? m.model);
    cols.experiment.push(r.experiment ?? m.experiment);
    cols.metric.push(r.metric);
    for (const name of labelNames) cols[name].push(checkLabelValue(m.labelColumns[name], r.labels?.[name], `${where}, label '${name}'`));
    cols.prompt.push(r.prompt ?? '');
    cols.completion.push(r.completion ?? '');
    cols.n_steps.push(r.n_steps);
    cols.n_layers.push(r.n_layers);
    // Plain arrays: the writer's list encoder wants them; values are stored as float32.
    cols.values.push(Array.from(r.values, (v) => Math.fround(v)));
    cols[INDEX_COLUMN].push(r.sample_index ?? null);
    if (topK > 0) {
      const [gen, ids, probs] = tokenCells(r, topK, where);
      cols.generated_ids.push(gen);
      cols.topk_ids.push(ids);
      cols.topk_probs.push(probs);
    } else if (r.tokens) {
      throw new UserError(`${where}: has token columns but the dataset was opened without topK; open it with topK to store them`);
    }
  });

  const schema: SchemaElement[] = [{ name: 'root', num_children: ID_COLUMNS.length + labelNames.length + 6 + (topK > 0 ? TOKEN_COLUMNS.length : 0) }];
  for (const c of ID_COLUMNS) schema.push({ name: c, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
  for (const name of labelNames) schema.push({ name, ...PARQUET_TYPE[m.labelColumns[name]], repetition_type: 'OPTIONAL' });
  schema.push({ name: 'prompt', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
  schema.push({ name: 'completion', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
  schema.push({ name: 'n_steps', type: 'INT32', repetition_type: 'REQUIRED' });
  schema.push({ name: 'n_layers', type: 'INT32', repetition_type: 'REQUIRED' });
  schema.push({ name: 'values', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 });
  schema.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
  schema.push({ name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' });
  schema.push({ name: INDEX_COLUMN, type: 'INT32', repetition_type: 'OPTIONAL' });
  if (topK > 0) {
    for (const [name, type] of [['generated_ids', 'INT32'], ['topk_ids', 'INT32'], ['topk_probs', 'FLOAT']] as const) {
      schema.push({ name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 });
      schema.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      schema.push({ name: 'element', type, repetition_type: 'REQUIRED' });
    }
  }

  const buf = parquetWriteBuffer({
    columnData: Object.entries(cols).map(([name, data]) => ({ name, data })),
    schema,
    kvMetadata: [{ key: 'entropylens.manifest', value: JSON.stringify({ model: m.model, experiment: m.experiment, labelColumns: m.labelColumns, ...(topK > 0 ? { topK } : {}), codeVersion: m.codeVersion }) }],
    createdBy: `entropylens ${m.codeVersion}`,
  });
  return new Uint8Array(buf);
}

/** The bytes of a part file as an ArrayBuffer (regular files only: a FIFO or a device is refused). */
export async function loadPart(path: string): Promise<ArrayBuffer> {
  const b = await readRegularFileBytes(path, 'results part file');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** A part file that cannot be decoded: named, with what to do. */
export class DamagedPartError extends UserError {
  constructor(
    readonly file: string,
    cause: string,
  ) {
    super(
      `results part file ${file} is damaged (${cause}). Move it away (its samples are redone when the run is resumed), ` +
        `or rerun the same \`entropylens run\` with --drop-damaged, which does that for you.`,
    );
  }
}

/** Label column types of a part file, from its Parquet schema (also for files written by pandas, DuckDB …). */
export function labelTypesOf(buf: ArrayBuffer, file: string): Record<string, LabelType> {
  let tree;
  try {
    tree = parquetSchema(parquetMetadata(buf));
  } catch (err) {
    throw new DamagedPartError(file, (err as Error).message);
  }
  const out: Record<string, LabelType> = {};
  for (const child of tree.children) {
    const el = child.element;
    if (RESERVED_COLUMNS.includes(el.name) || child.children.length > 0) continue;
    out[el.name] = el.type === 'BOOLEAN' ? 'boolean' : el.type === 'INT32' || el.type === 'INT64' ? 'int' : el.type === 'FLOAT' || el.type === 'DOUBLE' ? 'double' : 'string';
  }
  return out;
}

function toLabel(v: unknown): LabelValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

/** K of a part file's top-k columns, from the metadata entropylens writes into every part file (a lone file has no manifest). */
export function topKOfPart(buf: ArrayBuffer): number | undefined {
  const kv = parquetMetadata(buf).key_value_metadata?.find((e) => e.key === 'entropylens.manifest');
  try {
    const k = (JSON.parse(kv?.value ?? '{}') as { topK?: unknown }).topK;
    return typeof k === 'number' && Number.isInteger(k) && k > 0 ? k : undefined;
  } catch {
    return undefined;
  }
}

function tokensFrom(r: Record<string, unknown>, nSteps: number, nLayers: number, where: string): StepTokens | undefined {
  const { generated_ids: gen, topk_ids: ids, topk_probs: probs } = r;
  if (gen === undefined && ids === undefined && probs === undefined) return undefined;
  if (!Array.isArray(gen) || !Array.isArray(ids) || !Array.isArray(probs) || ids.length !== probs.length) {
    throw new UserError(`${where}: generated_ids, topk_ids and topk_probs must be lists, the last two of one length`);
  }
  if (gen.length !== nSteps) throw new UserError(`${where}: ${gen.length} generated ids for ${nSteps} steps`);
  const cells = nSteps * nLayers;
  const k = cells > 0 ? ids.length / cells : 0;
  if (!Number.isInteger(k)) throw new UserError(`${where}: ${ids.length} top-k entries are not a multiple of n_steps × n_layers = ${cells}`);
  return { generatedIds: Int32Array.from(gen as number[]), k, topkIds: Int32Array.from(ids as number[]), topkProbs: Float32Array.from(probs as number[]) };
}

function rowFrom(r: Record<string, unknown>, labelNames: string[], where: string, source: { file: string; row: number }): ResultRow {
  const values = r.values;
  if (!Array.isArray(values)) throw new UserError(`${where}: the values column is missing or not a list`);
  const index = r[INDEX_COLUMN];
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
    sample_index: index === null || index === undefined ? null : Number(index),
    source,
  };
  const tokens = tokensFrom(r, row.n_steps, row.n_layers, where);
  if (tokens) row.tokens = tokens;
  for (const name of labelNames) row.labels[name] = toLabel(r[name]);
  if (row.values.length !== row.n_steps * row.n_layers) {
    throw new UserError(`${where}: sample ${row.sample_id} has ${row.values.length} values for ${row.n_steps} × ${row.n_layers}`);
  }
  return row;
}

/**
 * Every row of one part file; `labelNames` are the label columns to pick up (missing ones read as
 * null). The token columns are decoded only with `tokens` (they are most of a file's bytes).
 */
export async function decodePart(buf: ArrayBuffer, file: string, labelNames: string[], tokens = false): Promise<ResultRow[]> {
  let raw: Record<string, unknown>[];
  try {
    const columns = tokens ? undefined : parquetSchema(parquetMetadata(buf)).children.map((c) => c.element.name).filter((n) => !(TOKEN_COLUMNS as readonly string[]).includes(n));
    raw = await parquetReadObjects({ file: buf, columns });
  } catch (err) {
    throw new DamagedPartError(file, (err as Error).message);
  }
  const name = basename(file);
  return raw.map((r, i) => rowFrom(r, labelNames, `${file} row ${i}`, { file: name, row: i }));
}

/**
 * The token columns of every row of one part file (by row index), or undefined when the file has
 * none. Parquet decodes a column chunk whole, so one row costs as much as its file: callers that
 * want one row's tokens (the viewer) read a file's once and keep them.
 */
export async function decodePartTokens(buf: ArrayBuffer, file: string): Promise<(StepTokens | undefined)[] | undefined> {
  let raw: Record<string, unknown>[];
  try {
    const names = parquetSchema(parquetMetadata(buf)).children.map((c) => c.element.name);
    if (!TOKEN_COLUMNS.every((c) => names.includes(c))) return undefined;
    raw = await parquetReadObjects({ file: buf, columns: ['n_steps', 'n_layers', ...TOKEN_COLUMNS] });
  } catch (err) {
    throw new DamagedPartError(file, (err as Error).message);
  }
  return raw.map((r, i) => tokensFrom(r, Number(r.n_steps), Number(r.n_layers), `${file} row ${i}`));
}

/** The sample_id column of one part file (for resuming). */
export async function readSampleIds(file: string): Promise<string[]> {
  const buf = await loadPart(file);
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: buf, columns: ['sample_id'] });
  } catch (err) {
    throw new DamagedPartError(file, (err as Error).message);
  }
  return rows.map((r) => String(r.sample_id));
}

/** The (sample_id, metric) key of every row of one part file. */
export async function readRowKeys(file: string): Promise<string[]> {
  const buf = await loadPart(file);
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: buf, columns: ['sample_id', 'metric'] });
  } catch (err) {
    throw new DamagedPartError(file, (err as Error).message);
  }
  return rows.map((r) => `${String(r.sample_id)}\u0000${String(r.metric)}`);
}
