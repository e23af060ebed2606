/** The figures of entropy profiles as Vega-Lite specs: depth curves, heatmaps, scatter plots, label profiles. */
import { UserError } from '../util/errors.js';
import { FONT_FAMILY } from './font.js';
import type { VegaLiteSpec } from './render.js';

export type Spec = VegaLiteSpec;

const WIDTH = 560;
const HEIGHT = 320;
/** Cell size of faceted figures: two columns come out about as wide as a single figure. */
const CELL_WIDTH = 270;
const CELL_HEIGHT = 190;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export const DEPTH_AXIS_TITLE = 'normalised depth (l+1)/L';
export const LAYER_AXIS_TITLE = 'layer (block index)';

/** Shared look: readable sizes, one font, white background, room around the edges. */
function baseConfig(): NonNullable<Extract<Spec, { config?: unknown }>['config']> {
  return {
    font: FONT_FAMILY,
    title: { fontSize: 15, fontWeight: 'bold', anchor: 'start', offset: 10, subtitleFontSize: 12, subtitleColor: '#555' },
    axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 8, titleFontWeight: 'normal', grid: true, gridColor: '#e6e6e6' },
    legend: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'bold', labelLimit: 260, titleLimit: 260, symbolStrokeWidth: 2.5 },
    header: { labelFontSize: 13, labelFontWeight: 'bold', titleFontSize: 13 },
    view: { stroke: '#cccccc' },
  };
}

/**
 * The axis title of a lens metric, with its unit. Takes the canonical metric names of results
 * (`shannon`, `renyi:0.5`, `moment:2`, `thresholded:shannon`, `kl:final`, `anchored:renyi:5`, …);
 * an unknown name is shown as given.
 */
export function metricAxisTitle(metric: string): string {
  const parts = metric.trim().toLowerCase().split(':');
  const order = (a: string): string => (a === 'inf' || a === 'infinity' ? '∞' : a);
  switch (parts[0]) {
    case 'shannon':
    case 'entropy':
      if (parts.length === 1) return 'Shannon entropy (nats)';
      break;
    case 'renyi':
      if (parts.length === 2) return parts[1] === '1' ? 'Shannon entropy (nats)' : `Rényi-${order(parts[1])} entropy (nats)`;
      break;
    case 'moment':
      // mean(p^k) over the vocabulary: a probability moment, it has no unit.
      if (parts.length === 2) return `moment mean(p^${parts[1]}) (unitless)`;
      break;
    case 'thresholded':
      if (parts[1] === 'shannon' && parts.length === 2) return 'thresholded Shannon entropy (nats)';
      if (parts[1] === 'moment' && parts.length === 3) return `thresholded moment mean(p^${parts[2]}) (unitless)`;
      break;
    case 'kl':
      if (parts[1] === 'final' && parts.length === 2) return 'KL(layer ‖ final layer) (nats)';
      if (parts[1] === 'next' && parts.length === 2) return 'KL(layer ‖ next layer) (nats)';
      break;
    case 'anchored':
      if (parts[1] === 'shannon' && parts.length === 2) return 'anchored Shannon entropy (nats)';
      if (parts[1] === 'renyi' && parts.length === 3) {
        return parts[2] === '1' ? 'anchored Shannon entropy (nats)' : `anchored Rényi-${order(parts[2])} entropy (nats)`;
      }
      break;
  }
  return metric;
}

/** z of the two-sided 95% normal interval. */
export const Z95 = 1.96;

export interface MeanBand {
  n: number;
  mean: number[];
  /** Sample standard deviation (n − 1 in the denominator); 0 when n = 1. */
  sd: number[];
  /** mean − 1.96·sd/√n */
  lo: number[];
  /** mean + 1.96·sd/√n */
  hi: number[];
}

/**
 * Per-position mean and 95% normal band (mean ± 1.96·sd/√n) over equally long vectors.
 * Non-finite entries are skipped position by position (n then varies; the band uses that n).
 */
export function meanBand(samples: readonly ArrayLike<number>[]): MeanBand {
  if (samples.length === 0) throw new UserError('meanBand: no samples to average');
  const len = samples[0].length;
  for (const s of samples) {
    if (s.length !== len) throw new UserError(`meanBand: profiles of different lengths (${len} and ${s.length}); group them so each group has one depth`);
  }
  const mean: number[] = [];
  const sd: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let j = 0; j < len; j++) {
    let n = 0;
    let sum = 0;
    for (const s of samples) {
      if (Number.isFinite(s[j])) {
        n++;
        sum += s[j];
      }
    }
    const m = n > 0 ? sum / n : NaN;
    let ss = 0;
    for (const s of samples) if (Number.isFinite(s[j])) ss += (s[j] - m) * (s[j] - m);
    const d = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    const half = n > 0 ? (Z95 * d) / Math.sqrt(n) : NaN;
    mean.push(m);
    sd.push(d);
    lo.push(m - half);
    hi.push(m + half);
  }
  return { n: samples.length, mean, sd, lo, hi };
}

export interface ProfileRow {
  model: string;
  family?: string;
  sizeParams?: number;
  label?: string;
  nLayers: number;
  /** per-layer profile, e.g. the W = 1 mean over generated tokens */
  values: number[];
}

/** One point of a mean line with its band: the data a band figure is drawn from. */
export interface BandPoint {
  /** the line this point belongs to (legend entry) */
  series: string;
  /** the facet cell (absent for a single panel) */
  panel?: string;
  /** legend order: lower first */
  order: number;
  x: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** vega-lite turns NaN into gaps only if it reaches it as null; JSON would do the same. */
function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function bandLayerSpec(opts: { nSeries: number; xTitle: string; yTitle: string; colorTitle: string; xIsLayer: boolean; xDomain?: [number, number] }) {
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: opts.xTitle,
    scale: opts.xDomain ? { domain: opts.xDomain, nice: false, zero: false } : { zero: false, nice: false },
    axis: opts.xIsLayer ? { tickMinStep: 1, format: 'd' } : { format: '.1f' },
  };
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: opts.colorTitle,
    sort: { field: 'order', op: 'min' as const },
    ...(opts.nSeries > 10 ? { scale: { scheme: 'tableau20' } } : {}),
    // The band layer would make the merged legend's symbols pale area swatches: draw lines.
    legend: { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3, symbolSize: 250 },
  };
  const tooltip = [
    { field: 'series', type: 'nominal' as const, title: opts.colorTitle },
    { field: 'x', type: 'quantitative' as const, title: opts.xTitle, format: opts.xIsLayer ? 'd' : '.3f' },
    { field: 'mean', type: 'quantitative' as const, title: 'mean', format: '.4f' },
    { field: 'lo', type: 'quantitative' as const, title: '95% low', format: '.4f' },
    { field: 'hi', type: 'quantitative' as const, title: '95% high', format: '.4f' },
    { field: 'n', type: 'quantitative' as const, title: 'samples' },
  ];
  return {
    layer: [
      {
        mark: { type: 'area' as const, opacity: 0.2, interpolate: 'linear' as const },
        encoding: {
          x,
          y: { field: 'lo', type: 'quantitative' as const, title: opts.yTitle, scale: { zero: false } },
          y2: { field: 'hi' },
          color,
        },
      },
      {
        mark: { type: 'line' as const, strokeWidth: 2 },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative' as const, title: opts.yTitle },
          color,
          tooltip,
        },
      },
    ],
  };
}

/** A figure's plot area in CSS pixels (the static figures use the defaults; the viewer fits its page). */
export interface FigureSize {
  width?: number;
  height?: number;
}

function bandSpec(points: BandPoint[], opts: { title?: string; subtitle?: string; xTitle: string; yTitle: string; colorTitle: string; xIsLayer: boolean; xDomain?: [number, number]; faceted: boolean; independentColor?: boolean; size?: FigureSize }): Spec {
  const values = points.map((p) => ({ ...p, mean: num(p.mean), lo: num(p.lo), hi: num(p.hi) }));
  const perPanel = new Map<string, Set<string>>();
  for (const p of points) {
    const set = perPanel.get(p.panel ?? '') ?? new Set<string>();
    set.add(p.series);
    perPanel.set(p.panel ?? '', set);
  }
  const layer = bandLayerSpec({ ...opts, nSeries: Math.max(...[...perPanel.values()].map((s) => s.size)) });
  const title = opts.title ? { text: opts.title, ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) } : undefined;
  if (!opts.faceted) {
    return {
      $schema: SCHEMA,
      ...(title ? { title } : {}),
      width: opts.size?.width ?? WIDTH,
      height: opts.size?.height ?? HEIGHT,
      padding: 12,
      background: 'white',
      data: { values },
      ...layer,
      config: baseConfig(),
    };
  }
  return {
    $schema: SCHEMA,
    ...(title ? { title } : {}),
    padding: 12,
    background: 'white',
    data: { values },
    facet: { field: 'panel', type: 'nominal', title: null, header: { labelFontSize: 13, labelFontWeight: 'bold', labelPadding: 6 } },
    columns: 2,
    spec: { width: CELL_WIDTH, height: CELL_HEIGHT, ...layer },
    // Each family gets its own palette and legend: colours then stay distinct inside a panel
    // however many models there are in total. Labels are the same in every panel: one legend.
    ...(opts.independentColor ? { resolve: { scale: { color: 'independent' as const } } } : {}),
    config: baseConfig(),
  };
}

/** Sort key of a model: family, then size, then name. */
function modelOrder(rows: ProfileRow[]): Map<string, number> {
  const first = new Map<string, ProfileRow>();
  for (const r of rows) if (!first.has(r.model)) first.set(r.model, r);
  const models = [...first.values()].sort(
    (a, b) =>
      (a.family ?? '').localeCompare(b.family ?? '') ||
      (a.sizeParams ?? Infinity) - (b.sizeParams ?? Infinity) ||
      a.model.localeCompare(b.model),
  );
  return new Map(models.map((m, i) => [m.model, i]));
}

/**
 * Entropy vs normalised depth (l+1)/L: per model (and per label with groupBy 'label') the mean
 * profile with its 95% band (mean ± 1.96·sd/√n over the rows).
 * - groupBy 'family': one panel per family, a line per model (own legend per panel);
 * - groupBy 'model': one panel, a line per model;
 * - groupBy 'label': a line per label, one panel per model when there are several models.
 */
export function depthCurves(rows: ProfileRow[], opts: { metric: string; groupBy: 'family' | 'model' | 'label'; title?: string }): Spec {
  if (rows.length === 0) throw new UserError('depthCurves: no profiles to plot');
  for (const r of rows) {
    if (!(r.nLayers > 0) || r.values.length !== r.nLayers) {
      throw new UserError(`depthCurves: model '${r.model}' has nLayers ${r.nLayers} but a profile of ${r.values.length} values; pass one value per layer (W = 1)`);
    }
  }
  const order = modelOrder(rows);
  const multiModel = order.size > 1;
  const labels = [...new Set(rows.map((r) => r.label ?? '(no label)'))].sort();
  const groups = new Map<string, { series: string; panel?: string; order: number; rows: ProfileRow[] }>();
  for (const r of rows) {
    const label = r.label ?? '(no label)';
    let series: string;
    let panel: string | undefined;
    let ord: number;
    if (opts.groupBy === 'label') {
      series = label;
      panel = multiModel ? r.model : undefined;
      ord = labels.indexOf(label);
    } else {
      series = r.model;
      panel = opts.groupBy === 'family' ? (r.family ?? '(no family)') : undefined;
      ord = order.get(r.model)!;
    }
    const key = `${panel ?? ''}\u0000${series}\u0000${r.model}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { series, panel, order: ord, rows: [] }));
    g.rows.push(r);
  }
  const points: BandPoint[] = [];
  for (const g of groups.values()) {
    const L = g.rows[0].nLayers;
    for (const r of g.rows) {
      if (r.nLayers !== L) throw new UserError(`depthCurves: model '${r.model}' has profiles of ${L} and ${r.nLayers} layers; give each model one depth`);
    }
    const b = meanBand(g.rows.map((r) => r.values));
    for (let l = 0; l < L; l++) {
      points.push({ series: g.series, ...(g.panel !== undefined ? { panel: g.panel } : {}), order: g.order, x: (l + 1) / L, mean: b.mean[l], lo: b.lo[l], hi: b.hi[l], n: b.n });
    }
  }
  const faceted = points.some((p) => p.panel !== undefined);
  return bandSpec(points, {
    title: opts.title ?? `${metricAxisTitle(opts.metric).replace(/ \(.*\)$/, '')} vs depth`,
    subtitle: 'mean and 95% band (mean ± 1.96·sd/√n)',
    xTitle: DEPTH_AXIS_TITLE,
    yTitle: metricAxisTitle(opts.metric),
    colorTitle: opts.groupBy === 'label' ? 'label' : 'model',
    xIsLayer: false,
    xDomain: [0, 1],
    faceted,
    independentColor: opts.groupBy === 'family',
  });
}

/** One line of a band figure: its mean and 95% band per position (layer), as meanBand computes them. */
export interface SeriesBand {
  label: string;
  band: Pick<MeanBand, 'n' | 'mean' | 'lo' | 'hi'>;
}

/**
 * Mean lines with their 95% bands from bands already computed (the viewer's server aggregates;
 * labelProfiles computes them from rows): against the layer index, or against normalised depth
 * (l+1)/L. Series are drawn and listed in the order given.
 */
export function bandFigure(series: SeriesBand[], opts: { metric: string; x: 'layer' | 'depth'; title?: string; colorTitle?: string; size?: FigureSize }): Spec {
  if (series.length === 0) throw new UserError('bandFigure: no profiles to plot');
  const points: BandPoint[] = [];
  let maxL = 0;
  series.forEach(({ label, band }, i) => {
    const L = band.mean.length;
    maxL = Math.max(maxL, L);
    for (let l = 0; l < L; l++) {
      points.push({ series: label, order: i, x: opts.x === 'layer' ? l : (l + 1) / L, mean: band.mean[l], lo: band.lo[l], hi: band.hi[l], n: band.n });
    }
  });
  const what = metricAxisTitle(opts.metric).replace(/ \(.*\)$/, '');
  return bandSpec(points, {
    title: opts.title ?? (opts.x === 'layer' ? `Mean ${what} per label` : `${what} vs depth`),
    subtitle: 'mean and 95% band (mean ± 1.96·sd/√n)',
    xTitle: opts.x === 'layer' ? LAYER_AXIS_TITLE : DEPTH_AXIS_TITLE,
    yTitle: metricAxisTitle(opts.metric),
    colorTitle: opts.colorTitle ?? 'label',
    xIsLayer: opts.x === 'layer',
    xDomain: opts.x === 'layer' ? [0, Math.max(1, maxL - 1)] : [0, 1],
    faceted: false,
    size: opts.size,
  });
}

/**
 * Per-label mean profile against the layer index, with a 95% band per label. All profiles of a
 * label must have the same number of layers.
 */
export function labelProfiles(rows: { label: string; values: number[] }[], opts: { metric: string; title?: string }): Spec {
  if (rows.length === 0) throw new UserError('labelProfiles: no profiles to plot');
  const byLabel = new Map<string, number[][]>();
  for (const r of rows) {
    let list = byLabel.get(r.label);
    if (!list) byLabel.set(r.label, (list = []));
    list.push(r.values);
  }
  const series = [...byLabel.keys()].sort().map((label) => {
    const profiles = byLabel.get(label)!;
    const L = profiles[0].length;
    if (profiles.some((p) => p.length !== L)) {
      throw new UserError(`labelProfiles: label '${label}' mixes profiles of different depths; plot one model at a time`);
    }
    return { label, band: meanBand(profiles) };
  });
  return bandFigure(series, { metric: opts.metric, x: 'layer', title: opts.title });
}

/** A model as a figure names it: a hub id as it is, a folder by its last component (not an absolute path). */
export function modelLabel(model: string): string {
  return model
    .split(',')
    .map((m) => (/^(\/|\.{1,2}\/|~)/.test(m) || m.includes('\\') ? m.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || m : m))
    .join(', ');
}

/** The range of the finite values of several matrices: one colour scale for heatmaps shown side by side. */
export function sharedDomain(matrices: readonly (readonly (readonly number[])[])[]): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of matrices) {
    for (const row of m) {
      for (const v of row) {
        if (!Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * A steps × layers heatmap (one sample's T×L profile, or a label's mean W×L). Row 0 is at the top.
 * `domain` fixes the colour scale (give heatmaps meant to be compared the
 * same one); by default it spans this matrix's values.
 */
export function heatmap(
  matrix: number[][],
  opts: {
    metric: string;
    title?: string;
    subtitle?: string | string[];
    xLabel?: string;
    yLabel?: string;
    domain?: [number, number];
    /** The colour legend's title (default: the metric with its unit). */
    valueTitle?: string;
    /** A difference: a diverging scale centred on 0 instead of viridis. */
    diverging?: boolean;
    size?: FigureSize;
  },
): Spec {
  if (matrix.length === 0 || matrix[0].length === 0) throw new UserError('heatmap: the matrix is empty');
  const L = matrix[0].length;
  const values: { step: number; layer: number; value: number | null }[] = [];
  matrix.forEach((row, t) => {
    if (row.length !== L) throw new UserError(`heatmap: row ${t} has ${row.length} values, row 0 has ${L}; give a steps × layers matrix`);
    row.forEach((v, l) => values.push({ step: t, layer: l, value: num(v) }));
  });
  const T = matrix.length;
  const xTitle = opts.xLabel ?? LAYER_AXIS_TITLE;
  const yTitle = opts.yLabel ?? 'generated token (step)';
  const legendTitle = opts.valueTitle ?? metricAxisTitle(opts.metric);
  // A difference gets a symmetric scale: equal colours for equal sizes of change either way.
  const spread = values.reduce((a, v) => (v.value === null ? a : Math.max(a, Math.abs(v.value))), 1e-12);
  const width = opts.size?.width ?? WIDTH;
  const height = opts.size?.height ?? HEIGHT;
  const legend = { gradientLength: height - 40, titleOrient: 'left' as const, titleAnchor: 'middle' as const, titleFontWeight: 'normal' as const, titleFontSize: 12 };
  // Cells span [i − 0.5, i + 0.5] on quantitative scales: integer ticks land on cell centres,
  // and the axis stays readable for 48 layers or 256 steps where an ordinal axis would not.
  return {
    $schema: SCHEMA,
    title: { text: opts.title ?? `${legendTitle.replace(/ \(.*\)$/, '')} per step and layer`, ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) },
    width,
    height,
    padding: 12,
    background: 'white',
    data: { values },
    transform: [
      { calculate: 'datum.layer - 0.5', as: 'x0' },
      { calculate: 'datum.layer + 0.5', as: 'x1' },
      { calculate: 'datum.step - 0.5', as: 'y0' },
      { calculate: 'datum.step + 0.5', as: 'y1' },
    ],
    // A hairline stroke in the cell's own colour hides the anti-aliasing seams between cells.
    mark: { type: 'rect', strokeWidth: 0.6, stroke: { expr: "scale('color', datum.value)" } },
    encoding: {
      x: { field: 'x0', type: 'quantitative', title: xTitle, scale: { domain: [-0.5, L - 0.5], nice: false, zero: false }, axis: { tickMinStep: 1, format: 'd', grid: false } },
      x2: { field: 'x1' },
      y: { field: 'y0', type: 'quantitative', title: yTitle, scale: { domain: [-0.5, T - 0.5], nice: false, zero: false, reverse: true }, axis: { tickMinStep: 1, format: 'd', grid: false } },
      y2: { field: 'y1' },
      color: {
        field: 'value',
        type: 'quantitative',
        title: legendTitle,
        scale: opts.diverging
          ? { scheme: 'blueorange', domain: opts.domain ?? [-spread, spread], ...(opts.domain ? { clamp: true } : {}) }
          : { scheme: 'viridis', ...(opts.domain ? { domain: opts.domain, clamp: true } : {}) },
        legend,
      },
      tooltip: [
        { field: 'step', type: 'quantitative', title: yTitle },
        { field: 'layer', type: 'quantitative', title: xTitle },
        { field: 'value', type: 'quantitative', title: legendTitle, format: '.4f' },
      ],
    },
    config: { ...baseConfig(), axis: { ...baseConfig().axis, grid: false } },
  };
}

export interface ScatterPoint {
  x: number;
  y: number;
  color: string;
  /** A second category drawn as the mark's shape (e.g. the model within a family). */
  shape?: string;
  size?: number;
  tooltip?: string;
  /** Carried into the datum (the viewer opens the sample a clicked point stands for). */
  id?: string;
}

/**
 * A 2-D map (t-SNE, PCA): points coloured by a category (family, label), optionally sized by a
 * number (model size in parameters: the legend writes 124M, 1.5B).
 */
export function scatter(
  points: ScatterPoint[],
  opts: { title?: string; subtitle?: string | string[]; colorTitle: string; shapeTitle?: string; sizeTitle?: string; xTitle?: string; yTitle?: string; size?: FigureSize },
): Spec {
  if (points.length === 0) throw new UserError('scatter: no points to plot');
  const sized = points.some((p) => p.size !== undefined && Number.isFinite(p.size));
  const shaped = points.some((p) => p.shape !== undefined);
  const values = points.map((p) => ({
    x: p.x,
    y: p.y,
    color: p.color,
    ...(shaped ? { shape: p.shape ?? '' } : {}),
    ...(sized ? { size: num(p.size ?? NaN) } : {}),
    tooltip: p.tooltip ?? p.color,
    ...(p.id !== undefined ? { id: p.id } : {}),
  }));
  const categories = [...new Set(points.map((p) => p.color))].sort();
  // The size legend lists every distinct size (each model), not a few rounded steps.
  const sizes = [...new Set(points.map((p) => p.size).filter((v): v is number => v !== undefined && Number.isFinite(v)))].sort((a, b) => a - b);
  const shapes = [...new Set(points.map((p) => p.shape).filter((v): v is string => v !== undefined))].sort();
  return {
    $schema: SCHEMA,
    ...(opts.title ? { title: { text: opts.title, ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) } } : {}),
    width: opts.size?.width ?? WIDTH,
    height: opts.size?.height ?? HEIGHT,
    padding: 12,
    background: 'white',
    data: { values },
    mark: { type: 'point', filled: true, opacity: 0.75, stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: opts.xTitle ?? 't-SNE 1 (arbitrary units)', scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: opts.yTitle ?? 't-SNE 2 (arbitrary units)', scale: { zero: false } },
      color: { field: 'color', type: 'nominal', title: opts.colorTitle, scale: { domain: categories, scheme: categories.length <= 10 ? 'tableau10' : 'tableau20' }, legend: { symbolSize: 140, symbolOpacity: 1 } },
      ...(sized
        ? {
            size: {
              field: 'size',
              type: 'quantitative',
              title: opts.sizeTitle ?? 'size',
              scale: { range: [25, 300], zero: false },
              // SI prefixes, with G written B as model sizes are said (1.5B parameters).
              legend: { values: sizes, format: '.3~s', labelExpr: "replace(datum.label, 'G', 'B')", symbolFillColor: '#888', symbolStrokeWidth: 0 },
            },
          }
        : {}),
      ...(shaped ? { shape: { field: 'shape', type: 'nominal', title: opts.shapeTitle ?? 'shape', scale: { domain: shapes }, legend: { symbolFillColor: '#555', symbolSize: 100 } } } : {}),
      tooltip: [
        { field: 'tooltip', type: 'nominal', title: 'sample' },
        { field: 'color', type: 'nominal', title: opts.colorTitle },
        ...(shaped ? [{ field: 'shape', type: 'nominal' as const, title: opts.shapeTitle ?? 'shape' }] : []),
        ...(sized ? [{ field: 'size', type: 'quantitative' as const, title: opts.sizeTitle ?? 'size', format: '.3~s' }] : []),
      ],
    },
    config: baseConfig(),
  };
}
