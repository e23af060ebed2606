/** The datasets page (/): every dataset the viewer was given, and a way to compare some of them. */
import { modelLabel } from '../../../plot/figures.js';
import type { DatasetInfo } from '../../api-types.js';
import { getJson } from '../api.js';
import { el, link } from '../dom.js';

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—';
}

function completeText(d: DatasetInfo): string {
  return d.complete === true ? 'yes' : d.complete === false ? `no (${d.progress ?? 'unfinished'})` : 'unknown';
}

export async function datasetsPage(root: HTMLElement): Promise<void> {
  const list = await getJson<DatasetInfo[]>('/api/datasets');
  const chosen = new Set<string>();
  const compare = el('button', { attrs: { type: 'button', disabled: true, id: 'compare-selected' } }, 'Compare selected');
  compare.addEventListener('click', () => {
    location.href = `/compare?datasets=${[...chosen].map(encodeURIComponent).join(',')}`;
  });
  const rows = list.map((d) => {
    const box = el('input', { attrs: { type: 'checkbox', 'aria-label': `select ${d.name}` } });
    box.addEventListener('change', () => {
      if (box.checked) chosen.add(d.name);
      else chosen.delete(d.name);
      compare.disabled = chosen.size < 2;
    });
    const labels = Object.entries(d.labels).map(([k, t]) => `${k} (${t})`).join(', ');
    return el(
      'tr',
      { class: 'dataset-row', attrs: { 'data-name': d.name } },
      el('td', {}, box),
      el('td', {}, link(`/datasets/${encodeURIComponent(d.name)}`, d.name)),
      el('td', {}, d.experiment || '—'),
      el('td', { class: 'wrap', attrs: { title: d.model } }, d.model ? modelLabel(d.model) : '—'),
      el('td', { class: 'num' }, d.samples.toLocaleString('en')),
      el('td', {}, d.metrics.join(', ')),
      el('td', { class: 'wrap small' }, labels),
      el('td', { class: 'num' }, d.n_steps !== null && d.n_layers !== null ? `${d.n_steps} × ${d.n_layers}` : 'mixed'),
      el('td', { class: 'num' }, d.windows ?? '—'),
      el('td', { class: 'num' }, d.top_k || '—'),
      el('td', { class: 'small' }, when(d.created)),
      el('td', {}, completeText(d)),
    );
  });
  root.append(
    el('h1', {}, 'Results datasets'),
    el('p', { class: 'hint' }, `${list.length} dataset${list.length === 1 ? '' : 's'}. Open one to see its profiles, or tick two or more and compare them.`),
    el(
      'table',
      { class: 'grid', attrs: { id: 'datasets' } },
      el(
        'thead',
        {},
        el('tr', {}, ...['', 'dataset', 'experiment', 'model', 'samples', 'metrics', 'labels', 'steps × layers', 'windows', 'top-k', 'made', 'complete'].map((h) => el('th', {}, h))),
      ),
      el('tbody', {}, ...rows),
    ),
    el('p', {}, compare),
  );
}
