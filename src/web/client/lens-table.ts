/**
 * The logit-lens table: a row per layer, a column per generated token, each cell coloured by the
 * metric and showing the lens' top-1 token there; hovering a cell lists its top-k with
 * probabilities. Shared by the sample page and the live page.
 */
import { scheme } from 'vega';
import { metricAxisTitle } from '../../plot/figures.js';
import { tokenLabel } from '../token-text.js';
import { el, hideTip, showTip } from './dom.js';

export interface LensColumn {
  /** The token generated at this step, when known. */
  token?: { id: number; text: string | null };
  /** One value per layer. */
  values: number[];
  /** Per layer, the top-k (top-1 first). */
  topk?: { ids: number[]; tokens: (string | null)[]; probs: number[] }[];
}

export interface LensTableData {
  metric: string;
  nLayers: number;
  columns: LensColumn[];
  /** Colour scale limits; default the table's own min and max. */
  domain?: [number, number];
}

const viridis = scheme('viridis') as (t: number) => string;

/** Dark text on light cells and light text on dark ones (relative luminance of the rgb() colour). */
function textColour(rgb: string): string {
  const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(rgb);
  if (!m) return '#000';
  const [r, g, b] = [m[1], m[2], m[3]].map((c) => Number(c) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 ? '#111' : '#fff';
}

export function domainOf(columns: LensColumn[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of columns) for (const v of c.values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return Number.isFinite(lo) ? [lo, hi > lo ? hi : lo + 1e-9] : [0, 1];
}

function cellTip(e: MouseEvent, metric: string, layer: number, step: number, col: LensColumn): void {
  const v = col.values[layer];
  const rows = [el('div', { class: 'tip-head' }, `layer ${layer}, step ${step}${col.token ? ` (→ ${tokenLabel(col.token.text, col.token.id)})` : ''}`), el('div', {}, `${metricAxisTitle(metric)}: ${Number.isFinite(v) ? v.toFixed(4) : 'n/a'}`)];
  const top = col.topk?.[layer];
  const list = top
    ? el(
        'table',
        { class: 'tip-topk' },
        el('tr', {}, el('th', {}, 'top-k token'), el('th', {}, 'id'), el('th', {}, 'probability')),
        ...top.ids.map((id, j) => el('tr', { class: 'tip-row' }, el('td', { class: 'tok' }, tokenLabel(top.tokens[j], id)), el('td', {}, id), el('td', {}, top.probs[j].toFixed(4)))),
      )
    : null;
  showTip(e.clientX, e.clientY, ...rows, list);
}

/** A horizontal colour bar with its limits and the metric's name and unit. */
export function colourLegend(metric: string, domain: [number, number]): HTMLElement {
  const stops = Array.from({ length: 11 }, (_, i) => viridis(i / 10));
  const bar = el('span', { class: 'legend-bar' });
  bar.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
  return el('div', { class: 'legend' }, el('span', { class: 'legend-title' }, `colour: ${metricAxisTitle(metric)}`), el('span', {}, domain[0].toFixed(2)), bar, el('span', {}, domain[1].toFixed(2)));
}

export function lensTable(d: LensTableData): HTMLElement {
  const domain = d.domain ?? domainOf(d.columns);
  const span = domain[1] - domain[0] || 1;
  const head = el(
    'tr',
    {},
    el('th', { class: 'corner' }, 'layer \\ step'),
    ...d.columns.map((c, t) =>
      el('th', { class: 'step', attrs: { 'data-step': t, title: c.token ? `step ${t}: generated token id ${c.token.id}` : `step ${t}` } }, el('div', { class: 'step-n' }, `${t}`), c.token ? el('div', { class: 'tok gen' }, tokenLabel(c.token.text, c.token.id)) : null),
    ),
  );
  const rows: HTMLElement[] = [];
  for (let l = 0; l < d.nLayers; l++) {
    const cells = d.columns.map((c, t) => {
      const v = c.values[l];
      const bg = Number.isFinite(v) ? viridis(Math.min(1, Math.max(0, (v - domain[0]) / span))) : '#ccc';
      const top = c.topk?.[l];
      const td = el(
        'td',
        { class: 'lens-cell', attrs: { 'data-layer': l, 'data-step': t, 'data-value': String(v), 'data-top1': top?.ids[0] } },
        top ? tokenLabel(top.tokens[0], top.ids[0]) : Number.isFinite(v) ? v.toFixed(2) : '',
      );
      td.style.background = bg;
      td.style.color = textColour(bg);
      td.addEventListener('mouseenter', (e) => cellTip(e, d.metric, l, t, c));
      td.addEventListener('mousemove', (e) => cellTip(e, d.metric, l, t, c));
      td.addEventListener('mouseleave', hideTip);
      return td;
    });
    rows.push(el('tr', {}, el('th', { class: 'layer' }, `${l}`), ...cells));
  }
  return el('div', { class: 'lens' }, colourLegend(d.metric, domain), el('div', { class: 'lens-scroll' }, el('table', { class: 'lens-table' }, el('thead', {}, head), el('tbody', {}, ...rows))));
}
