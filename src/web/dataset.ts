/**
 * One results dataset as the viewer serves it: rows read once through src/store (without the large
 * token columns, which are read per sample), then pages, samples, per-label summaries, 2-D maps and
 * evaluations computed on the server, so a page never holds a large dataset.
 */
import { formatEvaluation } from '../analysis/protocol.js';
import { PCA } from '../analysis/decomposition.js';
import type { RowsEvaluation } from '../analysis/dataset.js';
import { meanBand, type MeanBand } from '../plot/figures.js';
import fs from 'node:fs';
import { DERIVED_LABELS, EXPERIMENT_LABEL, datasetStatus, labelValues, readResults, readShardTokens, rowFeatures, type DatasetStatus, type Manifest, type ResultRow, type StepTokens } from '../store/index.js';
import { interpolateDepth } from '../util/depth.js';
import { UserError } from '../util/errors.js';
import type { Band, CompareSample, DatasetInfo, EvaluateResult, LabelType, MapResult, SampleDetail, SampleSummary, SamplesPage, Summary } from './api-types.js';
import type { CatalogEntry } from './catalog.js';
import type { ComputePool } from './compute.js';
import { HttpError } from './errors.js';
import { Lru } from './lru.js';
import { findTokenizer, type TokenDecoder } from './tokens.js';

/** Points a map draws at most (an evenly spaced subset above), and samples t-SNE embeds at most. */
const MAP_POINTS = 5000;
const TSNE_POINTS = 2000;
/** Shards whose token columns are kept decoded (about 4 MB per 1,000 samples of 8 steps × 12 layers × top-5). */
const TOKEN_SHARDS = 24;
/** Text shown in a map's hover, per field. */
const HOVER_CHARS = 300;

export interface SliceQuery {
  metric: string;
  label: string;
  /** Average the stored steps in W windows first; undefined = the stored steps. */
  windows?: number;
  /** Keep only samples whose label value is one of these (as text). */
  values?: string[];
}

function jsonBand(b: MeanBand): Band {
  const n = (v: number): number | null => (Number.isFinite(v) ? v : null);
  return { n: b.n, mean: b.mean.map(n), lo: b.lo.map(n), hi: b.hi.map(n) };
}

/** Label values as the page shows them; sorted numerically when they are numbers. */
export function labelText(v: unknown): string {
  return v === null || v === undefined ? '(none)' : String(v);
}

function sortValues(values: string[]): string[] {
  const numeric = values.every((v) => v !== '' && Number.isFinite(Number(v)));
  return values.sort((a, b) => (numeric ? Number(a) - Number(b) : a.localeCompare(b)));
}

function evenly<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]);
}

/** Where the run stands, in words: its writers' records (format 2 folders), as `entropylens status` reports them. */
function progressText(st: DatasetStatus): string {
  const count = st.manifest.sharding?.count;
  if (count) {
    const done = st.shards.filter((s) => s.state === 'complete').length;
    const running = st.shards.filter((s) => s.state === 'running').length;
    return `${done} of ${count} shards complete${running ? `, ${running} running` : ''}`;
  }
  const s = st.shards[0];
  return `${s.state}${s.samplesTotal !== null ? `, ${s.samplesDone} of ${s.samplesTotal} samples` : ''}`;
}

function clip(s: string): string {
  return s.length > HOVER_CHARS ? `${s.slice(0, HOVER_CHARS)}…` : s;
}

export class ViewerDataset {
  private readonly byMetric = new Map<string, ResultRow[]>();
  private readonly bySample = new Map<string, Map<string, ResultRow>>();
  /** sample_ids in stored order. */
  private readonly order: string[] = [];
  private readonly cache = new Lru<string, Promise<unknown>>(64);
  private readonly shardTokens = new Lru<string, Promise<(StepTokens | undefined)[] | undefined>>(TOKEN_SHARDS);

  private constructor(
    readonly entry: CatalogEntry,
    readonly manifest: Manifest,
    rows: ResultRow[],
    private readonly tokens: TokenDecoder | undefined,
    /** The writers' records of a results folder (undefined: a lone Parquet file, or a folder older than them). */
    private readonly status: DatasetStatus | undefined,
  ) {
    for (const r of rows) {
      let list = this.byMetric.get(r.metric);
      if (!list) this.byMetric.set(r.metric, (list = []));
      let per = this.bySample.get(r.sample_id);
      if (!per) {
        this.bySample.set(r.sample_id, (per = new Map()));
        this.order.push(r.sample_id);
      }
      if (per.has(r.metric)) continue; // a repeated sample_id: the first row counts, as in evaluate
      per.set(r.metric, r);
      list.push(r);
    }
  }

  static async load(entry: CatalogEntry): Promise<ViewerDataset> {
    // Partial: a run whose shards are not all done yet is shown as it stands (and said to be unfinished).
    const { manifest, rows } = await readResults(entry.path, { partial: true });
    const folder = (await fs.promises.stat(entry.path)).isDirectory();
    const status = folder && manifest.version >= 2 ? await datasetStatus(entry.path) : undefined;
    const tokens = (manifest.topK ?? 0) > 0 ? await findTokenizer(manifest.model, entry.path) : undefined;
    return new ViewerDataset(entry, manifest, rows, tokens, status);
  }

  get metrics(): string[] {
    return [...this.byMetric.keys()];
  }

  /** Stored label columns and the derived ones that apply. */
  labelTypes(): Record<string, LabelType> {
    const out: Record<string, LabelType> = { ...this.manifest.labelColumns };
    for (const d of DERIVED_LABELS) {
      if (d in out) continue;
      if (d !== 'task' || 'prompt_type' in out) out[d] = 'string';
    }
    return out;
  }

  info(): DatasetInfo {
    const first = this.byMetric.values().next().value as ResultRow[] | undefined;
    const all = first ?? [];
    const one = <K extends 'n_steps' | 'n_layers'>(k: K): number | null => (all.length > 0 && all.every((r) => r[k] === all[0][k]) ? all[0][k] : null);
    const w = this.manifest.options?.windows;
    return {
      name: this.entry.name,
      path: this.entry.path,
      experiment: this.manifest.experiment,
      model: this.manifest.model,
      samples: this.order.length,
      rows: [...this.byMetric.values()].reduce((s, l) => s + l.length, 0),
      metrics: this.metrics,
      labels: this.labelTypes(),
      n_steps: one('n_steps'),
      n_layers: one('n_layers'),
      windows: typeof w === 'number' ? w : null,
      top_k: this.manifest.topK ?? 0,
      created: this.manifest.createdAt || null,
      updated: this.status?.shards.reduce<string | null>((a, s) => (s.lastWrite && (!a || s.lastWrite > a) ? s.lastWrite : a), null) ?? (this.manifest.updatedAt || null),
      complete: this.status ? this.status.complete : null,
      progress: this.status ? progressText(this.status) : null,
      tokenizer: this.tokens?.dir ?? null,
    };
  }

  /** The label the dataset's experiment is about, else its first label column. */
  defaultLabel(): string {
    const natural = EXPERIMENT_LABEL[this.manifest.experiment];
    const labels = this.labelTypes();
    if (natural && natural in labels) return natural;
    return Object.keys(this.manifest.labelColumns)[0] ?? 'model';
  }

  defaultMetric(): string {
    return this.byMetric.has('shannon') ? 'shannon' : this.metrics[0] ?? 'shannon';
  }

  rowsOf(metric: string): ResultRow[] {
    const rows = this.byMetric.get(metric);
    if (!rows) throw new UserError(`no rows with metric '${metric}' in ${this.entry.name}; it has: ${this.metrics.join(', ') || 'no rows at all'}`);
    return rows;
  }

  /** The rows of a query's metric with their label values, filtered to the query's values. */
  private slice(q: SliceQuery): { rows: ResultRow[]; labels: string[] } {
    const rows = this.rowsOf(q.metric);
    const labels = labelValues(rows, q.label).map(labelText);
    if (!q.values || q.values.length === 0) return { rows, labels };
    const keep = new Set(q.values);
    const out: ResultRow[] = [];
    const outLabels: string[] = [];
    rows.forEach((r, i) => {
      if (keep.has(labels[i])) {
        out.push(r);
        outLabels.push(labels[i]);
      }
    });
    return { rows: out, labels: outLabels };
  }

  private features(r: ResultRow, windows: number | undefined): Float32Array {
    return rowFeatures(r, windows ?? r.n_steps);
  }

  samplesPage(q: { offset: number; limit: number; metric?: string; label?: string; values?: string[]; search?: string }): SamplesPage {
    let ids = this.order;
    if (q.label && q.values && q.values.length > 0) {
      const rows = this.rowsOf(q.metric ?? this.defaultMetric());
      const keep = new Set(q.values);
      const labels = labelValues(rows, q.label).map(labelText);
      const ok = new Set(rows.filter((_, i) => keep.has(labels[i])).map((r) => r.sample_id));
      ids = ids.filter((id) => ok.has(id));
    }
    if (q.search) {
      const needle = q.search.toLowerCase();
      ids = ids.filter((id) => {
        const r = this.anyRow(id);
        return id.toLowerCase().includes(needle) || r.prompt.toLowerCase().includes(needle) || r.completion.toLowerCase().includes(needle);
      });
    }
    const page = ids.slice(q.offset, q.offset + q.limit);
    return { total: ids.length, offset: q.offset, limit: q.limit, samples: page.map((id) => this.summaryOf(this.anyRow(id))) };
  }

  private anyRow(id: string): ResultRow {
    const per = this.bySample.get(id);
    if (!per) throw new HttpError(404, `no sample '${id}' in ${this.entry.name}`);
    return per.values().next().value as ResultRow;
  }

  private summaryOf(r: ResultRow): SampleSummary {
    return { sample_id: r.sample_id, labels: r.labels, prompt: r.prompt, completion: r.completion };
  }

  has(id: string): boolean {
    return this.bySample.has(id);
  }

  row(id: string, metric: string): ResultRow {
    const per = this.bySample.get(id);
    if (!per) throw new HttpError(404, `no sample '${id}' in ${this.entry.name}`);
    const r = per.get(metric);
    if (!r) throw new UserError(`sample '${id}' has no rows with metric '${metric}'; it has: ${[...per.keys()].join(', ')}`);
    return r;
  }

  async sample(id: string, metric: string): Promise<SampleDetail> {
    const r = this.row(id, metric);
    const values: number[][] = [];
    for (let t = 0; t < r.n_steps; t++) values.push(Array.from(r.values.subarray(t * r.n_layers, (t + 1) * r.n_layers)));
    const out: SampleDetail = {
      dataset: this.entry.name,
      model: r.model,
      metric,
      metrics: [...this.bySample.get(id)!.keys()],
      ...this.summaryOf(r),
      n_steps: r.n_steps,
      n_layers: r.n_layers,
      values,
    };
    if ((this.manifest.topK ?? 0) > 0) {
      const tok = await this.tokensOf(r);
      if (tok) {
        const text = (i: number): string | null => this.tokens?.text(i) ?? null;
        const { k } = tok;
        const ids: number[][][] = [];
        const tokens: (string | null)[][][] = [];
        const probs: number[][][] = [];
        for (let t = 0; t < r.n_steps; t++) {
          ids.push([]);
          tokens.push([]);
          probs.push([]);
          for (let l = 0; l < r.n_layers; l++) {
            const o = (t * r.n_layers + l) * k;
            const cellIds = Array.from(tok.topkIds.subarray(o, o + k));
            ids[t].push(cellIds);
            tokens[t].push(cellIds.map(text));
            probs[t].push(Array.from(tok.topkProbs.subarray(o, o + k)));
          }
        }
        out.generated = { ids: Array.from(tok.generatedIds), tokens: Array.from(tok.generatedIds, text) };
        out.topk = { k, ids, tokens, probs };
      }
    }
    return out;
  }

  /** A row's token columns, from its shard's (read once and kept while used). */
  private async tokensOf(r: ResultRow): Promise<StepTokens | undefined> {
    if (!r.source) return undefined;
    const file = r.source.file;
    let p = this.shardTokens.get(file);
    if (!p) {
      p = readShardTokens(this.entry.path, file);
      p.catch(() => this.shardTokens.delete(file));
      this.shardTokens.set(file, p);
    }
    return (await p)?.[r.source.row];
  }

  private memo<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      p.catch(() => this.cache.delete(key)); // errors are not kept: the next request tries again
      this.cache.set(key, p);
    }
    return p;
  }

  summary(q: SliceQuery): Promise<Summary> {
    return this.memo(`summary ${JSON.stringify(q)}`, async () => {
      const { rows, labels } = this.slice(q);
      if (rows.length === 0) throw new UserError(`no samples of ${this.entry.name} have ${q.label} in {${(q.values ?? []).join(', ')}}`);
      const groups = new Map<string, ResultRow[]>();
      rows.forEach((r, i) => {
        let g = groups.get(labels[i]);
        if (!g) groups.set(labels[i], (g = []));
        g.push(r);
      });
      const first = rows[0];
      const out: Summary = { metric: q.metric, label: q.label, windows: q.windows ?? null, n_steps: q.windows ?? first.n_steps, n_layers: first.n_layers, groups: [] };
      for (const value of sortValues([...groups.keys()])) {
        const g = groups.get(value)!;
        for (const r of g) {
          if (r.n_layers !== first.n_layers || (q.windows === undefined && r.n_steps !== first.n_steps)) {
            throw new UserError(`${this.entry.name} mixes profiles of ${first.n_steps}×${first.n_layers} and ${r.n_steps}×${r.n_layers} (steps × layers); choose --windows that divides both, or compare the models on the compare page`);
          }
        }
        out.groups.push({
          value,
          n: g.length,
          profile: jsonBand(meanBand(g.map((r) => rowFeatures(r, 1)))),
          matrix: jsonBand(meanBand(g.map((r) => this.features(r, q.windows)))),
        });
      }
      return out;
    });
  }

  map(q: SliceQuery & { method: 'pca' | 'tsne' }, compute: ComputePool): Promise<MapResult> {
    return this.memo(`map ${JSON.stringify(q)}`, async () => {
      const sliced = this.slice(q);
      if (sliced.rows.length < 3) throw new UserError(`a map needs at least 3 samples; ${this.entry.name} has ${sliced.rows.length} with this filter`);
      const idx = evenly(
        sliced.rows.map((_, i) => i),
        q.method === 'tsne' ? TSNE_POINTS : Number.MAX_SAFE_INTEGER,
      );
      const X = idx.map((i) => Array.from(this.features(sliced.rows[i], q.windows)));
      let coords: number[][];
      let axis: [string, string];
      let note: string | undefined;
      if (q.method === 'pca') {
        if (X[0].length < 2) throw new UserError('a PCA map needs at least 2 features (layers × windows)');
        const pca = new PCA({ nComponents: 2 });
        coords = pca.fitTransform(X);
        const pct = (i: number): string => `${(100 * pca.explainedVarianceRatio[i]).toFixed(1)}% of variance`;
        axis = [`PC1 (${pct(0)})`, `PC2 (${pct(1)})`];
      } else {
        const perplexity = Math.min(30, Math.max(1, (X.length - 1) / 3));
        const r = await compute.run<{ embedding: number[][]; klDivergence: number }>({ kind: 'tsne', X, perplexity, seed: 42 });
        coords = r.embedding;
        axis = ['t-SNE 1 (arbitrary units)', 't-SNE 2 (arbitrary units)'];
        note = `t-SNE (Barnes-Hut, perplexity ${perplexity.toFixed(1)}, seed 42) of ${X.length} samples, KL ${r.klDivergence.toFixed(3)}`;
      }
      const shownIdx = evenly(
        idx.map((_, j) => j),
        MAP_POINTS,
      );
      const points = shownIdx.map((j) => {
        const r = sliced.rows[idx[j]];
        return { sample_id: r.sample_id, x: coords[j][0], y: coords[j][1], label: sliced.labels[idx[j]], prompt: clip(r.prompt), completion: clip(r.completion) };
      });
      return { method: q.method, metric: q.metric, label: q.label, windows: q.windows ?? null, total: sliced.rows.length, shown: points.length, axis, points, ...(note ? { note } : {}) };
    });
  }

  evaluate(q: SliceQuery & { k: number; folds: number; seed: number; weights: 'uniform' | 'distance' }, compute: ComputePool): Promise<EvaluateResult> {
    return this.memo(`evaluate ${JSON.stringify(q)}`, async () => {
      const { rows } = this.slice(q);
      const windows = q.windows ?? 1;
      const r = await compute.run<RowsEvaluation>({
        kind: 'evaluate',
        rows,
        options: { label: q.label, metric: q.metric, windows, k: q.k, weights: q.weights, folds: q.folds, seed: q.seed },
      });
      const title = `${this.entry.name}: ${this.manifest.experiment || 'results'} of ${this.manifest.model || 'unknown model'}, metric ${q.metric}, label ${q.label}`;
      return { metric: q.metric, label: q.label, windows, overall: r.overall as unknown as EvaluateResult['overall'], notes: r.notes, text: formatEvaluation(r.overall, title) };
    });
  }

  /** The mean profile over normalised depth (each sample's mean over steps), for the compare page. */
  depthBand(metric: string): Band {
    return jsonBand(meanBand(this.rowsOf(metric).map((r) => rowFeatures(r, 1))));
  }
}

/** The per-sample difference of two datasets: second minus first, on layers or on a normalised-depth grid. */
export function sampleDifference(a: ViewerDataset, b: ViewerDataset, id: string, metric: string): CompareSample {
  const ra = a.row(id, metric);
  const rb = b.row(id, metric);
  const steps = Math.min(ra.n_steps, rb.n_steps);
  const sameDepth = ra.n_layers === rb.n_layers;
  const width = Math.max(ra.n_layers, rb.n_layers);
  const rowOf = (r: ResultRow, t: number): number[] => {
    const v = r.values.subarray(t * r.n_layers, (t + 1) * r.n_layers);
    return sameDepth ? Array.from(v) : interpolateDepth(v, width);
  };
  const diff: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const x = rowOf(ra, t);
    const y = rowOf(rb, t);
    diff.push(y.map((v, i) => v - x[i]));
  }
  return {
    metric,
    sample_id: id,
    prompt: ra.prompt,
    datasets: [a, b].map((d, i) => ({ name: d.entry.name, completion: [ra, rb][i].completion, n_steps: [ra, rb][i].n_steps, n_layers: [ra, rb][i].n_layers })),
    diff,
    x: sameDepth ? 'layer' : 'depth',
    xs: Array.from({ length: width }, (_, i) => (sameDepth ? i : (i + 1) / width)),
  };
}
