/** Writing a results dataset: shards and manifest replaced by rename, so a killed run loses at most one shard. */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { UserError } from '../util/errors.js';
import {
  ID_COLUMNS,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  RESERVED_COLUMNS,
  type LabelType,
  type LabelValue,
  type Manifest,
  type ResultRowInput,
  type ShardInfo,
} from './schema.js';
import { MANIFEST_FILE, readManifest, readSampleIds, shardFiles } from './reader.js';

export interface OpenOptions {
  model: string;
  experiment: string;
  options?: Record<string, unknown>;
  codeVersion?: string;
  /** Label columns this run writes, with their types (added to those already in the manifest). */
  labelColumns?: Record<string, LabelType>;
}

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

/** Writes `data` to `path` through a temporary file and a rename, so readers never see a partial file. */
async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Appends shards to a results dataset. A shard becomes visible in one rename; the manifest is
 * rewritten (also by rename) after it. A run killed between the two leaves a complete shard
 * that the next `open` adopts, so at most the shard being written is lost.
 */
export class ResultsWriter {
  private readonly ids: Set<string>;

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    ids: Set<string>,
  ) {
    this.ids = ids;
  }

  static async open(dir: string, init: OpenOptions): Promise<ResultsWriter> {
    if (!init.model || !init.experiment) throw new UserError('ResultsWriter.open needs a model and an experiment name');
    for (const name of Object.keys(init.labelColumns ?? {})) {
      if (RESERVED_COLUMNS.includes(name)) throw new UserError(`label column '${name}' clashes with a built-in column; choose another name`);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UserError(`label column '${name}' is not a plain identifier (letters, digits, _)`);
    }
    await mkdir(dir, { recursive: true });
    const now = new Date().toISOString();
    let manifest: Manifest;
    const existing = await readManifest(dir).catch((err: unknown) => {
      if (err instanceof UserError && /no manifest/.test(err.message)) return undefined;
      throw err;
    });
    if (existing) {
      if (existing.model !== init.model || existing.experiment !== init.experiment) {
        throw new UserError(
          `${dir} holds ${existing.experiment} results of ${existing.model}, not ${init.experiment} of ${init.model}; use another folder`,
        );
      }
      const labelColumns = { ...existing.labelColumns };
      for (const [name, type] of Object.entries(init.labelColumns ?? {})) {
        if (labelColumns[name] && labelColumns[name] !== type) {
          throw new UserError(`${dir}: label column '${name}' is stored as ${labelColumns[name]}, this run declares ${type}`);
        }
        labelColumns[name] = type;
      }
      manifest = { ...existing, labelColumns, options: init.options ?? existing.options, codeVersion: init.codeVersion ?? existing.codeVersion, updatedAt: now };
    } else {
      manifest = {
        format: MANIFEST_FORMAT,
        version: MANIFEST_VERSION,
        model: init.model,
        experiment: init.experiment,
        options: init.options ?? {},
        codeVersion: init.codeVersion ?? 'unknown',
        labelColumns: { ...(init.labelColumns ?? {}) },
        createdAt: now,
        updatedAt: now,
        shards: [],
      };
    }
    // Clean up temporaries of a killed run, and adopt complete shards the manifest missed.
    for (const f of await readdir(dir)) if (/\.tmp-\d+-\d+$/.test(f)) await rm(join(dir, f), { force: true });
    const listed = new Set(manifest.shards.map((s) => s.file));
    for (const file of await shardFiles(dir)) {
      if (listed.has(file)) continue;
      const ids = await readSampleIds(join(dir, file));
      manifest.shards.push({ file, rows: ids.length, samples: new Set(ids).size, createdAt: now });
    }
    manifest.shards.sort((a, b) => a.file.localeCompare(b.file));
    const ids = new Set<string>();
    for (const s of manifest.shards) for (const id of await readSampleIds(join(dir, s.file))) ids.add(id);
    const writer = new ResultsWriter(dir, manifest, ids);
    await writer.saveManifest();
    return writer;
  }

  /** The sample_ids already on disk: a resumed run skips these. */
  existingSampleIds(): Set<string> {
    return new Set(this.ids);
  }

  has(sampleId: string): boolean {
    return this.ids.has(sampleId);
  }

  private async saveManifest(): Promise<void> {
    await writeAtomic(join(this.dir, MANIFEST_FILE), JSON.stringify(this.manifest, null, 2) + '\n');
  }

  /** Writes `rows` as the next shard and records it in the manifest. */
  async appendShard(rows: readonly ResultRowInput[]): Promise<ShardInfo> {
    if (rows.length === 0) throw new UserError('appendShard: no rows to write');
    const m = this.manifest;
    const labelNames = Object.keys(m.labelColumns);
    const cols: Record<string, unknown[]> = {};
    for (const c of [...ID_COLUMNS, ...labelNames, 'prompt', 'completion', 'n_steps', 'n_layers', 'values']) cols[c] = [];
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
    });

    const schema: SchemaElement[] = [{ name: 'root', num_children: ID_COLUMNS.length + labelNames.length + 5 }];
    for (const c of ID_COLUMNS) schema.push({ name: c, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
    for (const name of labelNames) schema.push({ name, ...PARQUET_TYPE[m.labelColumns[name]], repetition_type: 'OPTIONAL' });
    schema.push({ name: 'prompt', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
    schema.push({ name: 'completion', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
    schema.push({ name: 'n_steps', type: 'INT32', repetition_type: 'REQUIRED' });
    schema.push({ name: 'n_layers', type: 'INT32', repetition_type: 'REQUIRED' });
    schema.push({ name: 'values', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 });
    schema.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
    schema.push({ name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' });

    const buf = parquetWriteBuffer({
      columnData: Object.entries(cols).map(([name, data]) => ({ name, data })),
      schema,
      kvMetadata: [{ key: 'entropylens.manifest', value: JSON.stringify({ model: m.model, experiment: m.experiment, labelColumns: m.labelColumns, codeVersion: m.codeVersion }) }],
      createdBy: `entropylens ${m.codeVersion}`,
    });
    const next = m.shards.reduce((mx, s) => Math.max(mx, Number(/part-(\d+)/.exec(s.file)?.[1] ?? -1)), -1) + 1;
    const file = `part-${String(next).padStart(5, '0')}.parquet`;
    await writeAtomic(join(this.dir, file), new Uint8Array(buf));
    const ids = rows.map((r) => r.sample_id);
    const info: ShardInfo = { file, rows: rows.length, samples: new Set(ids).size, createdAt: new Date().toISOString() };
    m.shards.push(info);
    m.updatedAt = info.createdAt;
    for (const id of ids) this.ids.add(id);
    await this.saveManifest();
    return info;
  }
}
