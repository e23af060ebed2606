/** The figures each run writes (and `entropylens plot` rewrites) from a results dataset's rows. */
import fs from 'node:fs';
import path from 'node:path';
import { depthCurves, heatmap, labelProfiles, renderSpec, scatter, sharedDomain, modelLabel } from '../plot/index.js';
import { labelValues, rowFeatures } from '../store/features.js';
import type { ResultRow } from '../store/schema.js';

/** A stored row's values as a steps × layers matrix. */
export function matrixOf(r: ResultRow): number[][] {
  const m: number[][] = [];
  for (let t = 0; t < r.n_steps; t++) m.push(Array.from(r.values.subarray(t * r.n_layers, (t + 1) * r.n_layers)));
  return m;
}

/** The mean over generated tokens (W = 1), one value per layer. */
function meanOverSteps(r: ResultRow): number[] {
  return Array.from(rowFeatures(r, 1));
}

/** Element-wise mean of equally shaped steps × layers matrices. */
export function meanMatrix(ms: number[][][]): number[][] {
  const T = Math.min(...ms.map((m) => m.length));
  const L = ms[0][0].length;
  const out = Array.from({ length: T }, () => new Array<number>(L).fill(0));
  for (const m of ms) for (let t = 0; t < T; t++) for (let l = 0; l < L; l++) out[t][l] += m[t][l] / ms.length;
  return out;
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'label';
}

export interface FigureOptions {
  /** The label column figures group by (tinystories: task; mmlu: correct; formats: format). */
  label?: string;
  /** families: the 2-D t-SNE embedding of `rows`, same order. */
  embedding?: number[][];
  /** Subfolder of the dataset for figures. */
  dirName?: string;
}

/** Write the experiment's figures as SVG + PNG (+ .vl.json) under `<out>/figures`; returns the PNG paths. */
export async function writeRunFigures(out: string, experiment: string, rows: ResultRow[], o: FigureOptions = {}): Promise<string[]> {
  const dir = path.join(out, o.dirName ?? 'figures');
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const render = async (spec: Parameters<typeof renderSpec>[0], base: string): Promise<void> => {
    const r = await renderSpec(spec, path.join(dir, base));
    written.push(r.png);
  };
  const metrics = [...new Set(rows.map((r) => r.metric))];
  for (const metric of metrics) {
    const mrows = rows.filter((r) => r.metric === metric);
    if (mrows.length === 0) continue;
    const suffix = metrics.length > 1 ? `-${safe(metric)}` : '';
    if (experiment === 'families') {
      const profileRows = mrows.map((r) => ({
        model: modelLabel(r.model),
        family: String(r.labels.family ?? r.model),
        sizeParams: typeof r.labels.n_params === 'number' ? r.labels.n_params : undefined,
        nLayers: r.n_layers,
        values: meanOverSteps(r),
      }));
      await render(depthCurves(profileRows, { metric, groupBy: 'family', title: `${metric} vs normalised depth, by family (${new Set(profileRows.map((p) => p.model)).size} models)` }), `depth-by-family${suffix}`);
      if (o.embedding && o.embedding.length === mrows.length && metric === 'shannon') {
        // Colour by family, shape by model: two models of one family stay apart.
        const points = mrows.map((r, i) => ({
          x: o.embedding![i][0],
          y: o.embedding![i][1],
          color: String(r.labels.family ?? modelLabel(r.model)),
          shape: modelLabel(r.model),
          size: typeof r.labels.n_params === 'number' ? r.labels.n_params : undefined,
          tooltip: `${modelLabel(r.model)} · ${r.sample_id}`,
        }));
        await render(scatter(points, { title: `t-SNE of ${metric} profiles, ${new Set(points.map((p) => p.shape)).size} models`, colorTitle: 'family', shapeTitle: 'model', sizeTitle: 'parameters' }), 'tsne');
      }
      continue;
    }
    const label = o.label;
    if (!label) continue;
    // An unknown label is an error naming the ones there are (never a figure of 'undefined').
    const values = labelValues(mrows, label).map(String);
    const byLabel = new Map<string, ResultRow[]>();
    mrows.forEach((r, i) => byLabel.set(values[i], [...(byLabel.get(values[i]) ?? []), r]));
    const models = modelLabel([...new Set(mrows.map((r) => r.model))].join(','));
    await render(
      labelProfiles(mrows.map((r, i) => ({ label: values[i], values: meanOverSteps(r) })), { metric, title: `${experiment} on ${models}: mean ${metric} profile per ${label}` }),
      `profiles-by-${label}${suffix}`,
    );
    // One colour scale for every label value's heatmap, so they can be compared side by side.
    const means = [...byLabel].map(([key, group]) => ({ key, group, m: meanMatrix(group.map(matrixOf)) }));
    const domain = sharedDomain(means.map((x) => x.m));
    for (const { key, group, m } of means) {
      await render(
        heatmap(m, { metric, domain, title: `${experiment} on ${models}: mean ${metric}, ${label} = ${key}`, subtitle: `${group.length} samples; colour scale shared by all ${label} values`, xLabel: 'layer (block index)', yLabel: 'generated token (step)' }),
        `heatmap-${label}-${safe(key)}${suffix}`,
      );
    }
  }
  return written;
}
