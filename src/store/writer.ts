/**
 * Writing a results dataset, safely beside other writers: each writer names its part files after
 * itself, so two processes (two runs on one `--out`, the shards of a cluster job, a requeued task)
 * never overwrite each other; the manifest is created once and only checked afterwards. A part file
 * appears in one rename, so a kill loses at most the part being written.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { createFileExclusive, isTemporary, writeFileAtomic } from '../util/atomic.js';
import {
  MANIFEST_FILE,
  MAX_TOP_K,
  WRITERS_DIR,
  hostName,
  newWriterId,
  partFiles,
  partName,
  processAlive,
  readManifest,
  readWriterRecords,
  removeStaleTemporaries,
  sameModel,
} from './layout.js';
import { DamagedPartError, encodePart, readSampleIds } from './parquet.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, RESERVED_COLUMNS, type LabelType, type Manifest, type ResultRowInput, type ShardInfo, type WriterRecord } from './schema.js';

export interface OpenOptions {
  model: string;
  experiment: string;
  options?: Record<string, unknown>;
  codeVersion?: string;
  /** Label columns this run writes, with their types (added to those already in the manifest). */
  labelColumns?: Record<string, LabelType>;
  /**
   * Store the generated tokens and the lens' top-K of every row (generated_ids, topk_ids,
   * topk_probs). Fixed when the dataset is created; absent when resuming = whatever the dataset has.
   */
  topK?: number;
  /** The run shard this writer processes (`--shard index/count`); all writers of a folder must agree on count. */
  shard?: { index: number; count: number } | null;
  /** The sample_ids this writer is to produce (for progress and completion); default: not known. */
  targets?: readonly string[];
  /** Damaged part files are moved aside (renamed `*.damaged`) instead of stopping with an error. */
  dropDamaged?: boolean;
  /** Called with each damaged part file that was moved aside. */
  onDropped?: (file: string) => void;
}

/** A run option's key as the CLI spells it: `maxNewTokens` → `--max-new-tokens`. */
export function cliSpelling(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Options that differ between the manifest and this run, as `--option: a on disk vs b now` lines. */
export function optionDifferences(onDisk: Record<string, unknown>, now: Record<string, unknown>): string[] {
  return Object.keys({ ...onDisk, ...now })
    .filter((k) => JSON.stringify(onDisk[k]) !== JSON.stringify(now[k]))
    .map((k) => `${cliSpelling(k)}: ${JSON.stringify(onDisk[k])} on disk vs ${JSON.stringify(now[k])} now`);
}

function cannotWrite(dir: string, err: unknown): UserError {
  const e = err as NodeJS.ErrnoException;
  return new UserError(`cannot write the results folder ${dir} (${e.code ?? ''} ${e.message}): choose a folder you can write to with --out`);
}

export class ResultsWriter {
  private readonly ids = new Set<string>();
  /** Part files whose sample_ids are in `ids`. */
  private readonly known = new Set<string>();
  private seq = 0;
  private readonly record: WriterRecord;

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    readonly writerId: string,
    private readonly targets: readonly string[] | undefined,
    private readonly drop: Pick<OpenOptions, 'dropDamaged' | 'onDropped'>,
    shard: { index: number; count: number } | null,
  ) {
    const now = new Date().toISOString();
    this.record = {
      writer: writerId,
      shard,
      host: hostName(),
      pid: process.pid,
      startedAt: now,
      updatedAt: now,
      state: 'running',
      codeVersion: manifest.codeVersion,
      samplesTotal: targets ? targets.length : null,
      samplesDone: 0,
      files: [],
    };
  }

  static async open(dir: string, init: OpenOptions): Promise<ResultsWriter> {
    if (!init.model || !init.experiment) throw new UserError('ResultsWriter.open needs a model and an experiment name');
    for (const name of Object.keys(init.labelColumns ?? {})) {
      if (RESERVED_COLUMNS.includes(name)) throw new UserError(`label column '${name}' clashes with a built-in column; choose another name`);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UserError(`label column '${name}' is not a plain identifier (letters, digits, _)`);
    }
    if (init.topK !== undefined && !(Number.isInteger(init.topK) && init.topK >= 0 && init.topK <= MAX_TOP_K)) {
      throw new UserError(`--top-k must be an integer from 0 to ${MAX_TOP_K}, got ${init.topK}`);
    }
    const shard = init.shard ?? null;
    if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
      throw new UserError(`shard ${shard.index}/${shard.count}: the index must be 0 … count − 1`);
    }
    try {
      await fs.promises.mkdir(dir, { recursive: true });
    } catch (err) {
      throw cannotWrite(dir, err);
    }
    const manifest = await ResultsWriter.createOrCheckManifest(dir, init, shard);
    try {
      await fs.promises.mkdir(join(dir, WRITERS_DIR), { recursive: true });
    } catch (err) {
      throw cannotWrite(dir, err);
    }
    const w = new ResultsWriter(dir, manifest, newWriterId(shard), init.targets, init, shard);
    await removeStaleTemporaries(dir);
    await w.refresh();
    await w.saveRecord();
    return w;
  }

  /** Creates the manifest if this is the first writer, else checks that this writer agrees with it. */
  private static async createOrCheckManifest(dir: string, init: OpenOptions, shard: { count: number } | null): Promise<Manifest> {
    const file = join(dir, MANIFEST_FILE);
    const now = new Date().toISOString();
    const fresh: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      model: init.model,
      experiment: init.experiment,
      options: init.options ?? {},
      codeVersion: init.codeVersion ?? 'unknown',
      labelColumns: { ...(init.labelColumns ?? {}) },
      ...((init.topK ?? 0) > 0 ? { topK: init.topK } : {}),
      createdAt: now,
      updatedAt: now,
      shards: [],
      sharding: shard ? { count: shard.count } : null,
    };
    if (!fs.existsSync(file)) {
      // What another writer starting at the same moment may have put there already does not count.
      const entries = (await fs.promises.readdir(dir)).filter((f) => !f.startsWith('.') && f !== WRITERS_DIR && !(f.startsWith(MANIFEST_FILE) && isTemporary(f)));
      if (entries.length > 0) throw new UserError(`${dir} exists and is not an entropylens results folder (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose an empty or new folder`);
      try {
        if (await createFileExclusive(file, JSON.stringify(fresh, null, 2) + '\n')) return fresh;
      } catch (err) {
        throw cannotWrite(dir, err);
      }
      // another writer created it between our check and our link: check against theirs
    }
    const m = await readManifest(dir);
    if (m.experiment !== init.experiment || !sameModel(m.model, init.model)) {
      throw new UserError(`${dir} holds ${m.experiment} results of ${m.model}, not ${init.experiment} of ${init.model}; use another folder`);
    }
    if (init.topK !== undefined && init.topK !== (m.topK ?? 0)) {
      throw new UserError(`${dir} stores top-${m.topK ?? 0} tokens per step and layer, this run asks for top-${init.topK}; use the same --top-k or another folder`);
    }
    // A library writer that gives no options resumes whatever run is there.
    const diffs = init.options === undefined ? [] : optionDifferences(m.options, init.options);
    if (diffs.length > 0) {
      throw new UserError(`${dir} holds a run with other options (${diffs.join('; ')}); rerun with the same options to resume, or choose another folder`);
    }
    const count = m.sharding?.count ?? null;
    if (count !== (shard?.count ?? null)) {
      throw new UserError(
        count === null
          ? `${dir} holds a run that was not split into shards; resume it without --shard, or choose another folder`
          : `${dir} holds a run split into ${count} shards; ${shard ? `this is a run in ${shard.count}` : 'this run has no --shard'} — pass --shard i/${count}, or choose another folder`,
      );
    }
    if (count !== null && init.codeVersion && m.codeVersion !== init.codeVersion) {
      throw new UserError(`${dir}: the shards of one run must come from one entropylens version; the run was started by ${m.codeVersion}, this is ${init.codeVersion}`);
    }
    const added = Object.entries(init.labelColumns ?? {}).filter(([name]) => !(name in m.labelColumns));
    for (const [name, type] of Object.entries(init.labelColumns ?? {})) {
      if (m.labelColumns[name] && m.labelColumns[name] !== type) throw new UserError(`${dir}: label column '${name}' is stored as ${m.labelColumns[name]}, this run declares ${type}`);
    }
    if (added.length > 0) {
      // Rare (a library user adding a column on resume); readers also take column types from the part files.
      const next = { ...m, labelColumns: { ...m.labelColumns, ...Object.fromEntries(added) }, updatedAt: now };
      await writeFileAtomic(file, JSON.stringify({ ...next, shards: m.version >= 2 ? [] : m.shards }, null, 2) + '\n');
      return next;
    }
    return m;
  }

  /**
   * Other writers of the same part of the run that are at work now: records still running, written
   * in the last ten minutes, and (on this host) of a live process.
   */
  async otherActiveWriters(): Promise<number> {
    const now = Date.now();
    const mine = JSON.stringify(this.record.shard);
    return (await readWriterRecords(this.dir)).filter(
      (r) =>
        r.writer !== this.writerId &&
        r.state === 'running' &&
        JSON.stringify(r.shard) === mine &&
        now - Date.parse(r.updatedAt) < 10 * 60_000 &&
        (r.host !== hostName() || processAlive(r.pid)),
    ).length;
  }

  /** The sample_ids on disk (as of the last refresh): a resumed run skips these. */
  existingSampleIds(): Set<string> {
    return new Set(this.ids);
  }

  has(sampleId: string): boolean {
    return this.ids.has(sampleId);
  }

  /** Picks up the part files other writers added since the last look; returns how many samples are known now. */
  async refresh(): Promise<number> {
    for (const file of await partFiles(this.dir)) {
      if (this.known.has(file)) continue;
      const full = join(this.dir, file);
      let ids: string[];
      try {
        ids = await readSampleIds(full);
      } catch (err) {
        if (err instanceof DamagedPartError && this.drop.dropDamaged) {
          await fs.promises.rename(full, `${full}.damaged`);
          this.drop.onDropped?.(full);
          continue;
        }
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err instanceof UserError && /not found/.test(err.message))) continue; // merged away
        throw err;
      }
      this.known.add(file);
      for (const id of ids) this.ids.add(id);
    }
    return this.ids.size;
  }

  private async saveRecord(): Promise<void> {
    const r = this.record;
    r.updatedAt = new Date().toISOString();
    r.samplesDone = this.targets ? this.targets.filter((id) => this.ids.has(id)).length : this.ids.size;
    await writeFileAtomic(join(this.dir, WRITERS_DIR, `${this.writerId}.json`), JSON.stringify(r, null, 2) + '\n');
  }

  /** Writes `rows` as this writer's next part file. */
  async appendShard(rows: readonly ResultRowInput[]): Promise<ShardInfo> {
    if (rows.length === 0) throw new UserError('appendShard: no rows to write');
    const data = encodePart(rows, this.manifest);
    const file = partName(this.writerId, this.seq++);
    await writeFileAtomic(join(this.dir, file), data);
    this.known.add(file);
    const ids = rows.map((r) => r.sample_id);
    for (const id of ids) this.ids.add(id);
    this.record.files.push(file);
    await this.saveRecord();
    return { file, rows: rows.length, samples: new Set(ids).size, createdAt: new Date().toISOString() };
  }

  /**
   * Marks this writer done: complete when every target is on disk (by this writer or another).
   * Returns whether its part of the run is complete.
   */
  async finish(): Promise<boolean> {
    await this.refresh();
    const complete = !this.targets || this.targets.every((id) => this.ids.has(id));
    if (complete) this.record.state = 'complete';
    await this.saveRecord();
    return complete;
  }
}
