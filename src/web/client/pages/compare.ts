/**
 * The compare page (/compare?datasets=A,B): mean profiles of two or more datasets on normalised
 * depth, and for a sample present in both (same sample_id) the difference of their profiles.
 */
import { bandFigure, heatmap, metricAxisTitle } from '../../../plot/figures.js';
import type { CompareResult, CompareSample, DatasetInfo } from '../../api-types.js';
import { getJson } from '../api.js';
import { chart } from '../charts.js';
import { clear, el, errorBox, link, select } from '../dom.js';

export async function comparePage(root: HTMLElement): Promise<void> {
  const q = new URLSearchParams(location.search);
  const names = (q.get('datasets') ?? '').split(',').filter((n) => n !== '');
  root.append(el('p', { class: 'crumbs' }, link('/', 'datasets'), ' / compare'), el('h1', {}, 'Compare datasets'));
  if (names.length < 2) {
    const all = await getJson<DatasetInfo[]>('/api/datasets');
    root.append(
      el('p', { class: 'hint' }, 'Choose two or more datasets:'),
      el('ul', {}, ...all.map((d) => el('li', {}, link(`/compare?datasets=${[...names.filter((n) => n !== d.name), d.name].map(encodeURIComponent).join(',')}`, d.name), ` — ${d.experiment} of ${d.model}`))),
    );
    return;
  }
  const c = await getJson<CompareResult>('/api/compare', { datasets: names.join(','), metric: q.get('metric') ?? undefined });
  const depth = el('div', { class: 'chart', attrs: { id: 'compare-depth' } });
  const diffBox = el('section', { attrs: { id: 'diff' } });
  const series = c.datasets.map((d) => ({ label: `${d.name} (${d.n_layers} layers)`, band: { n: d.depth.n, mean: d.depth.mean.map((v) => v ?? NaN), lo: d.depth.lo.map((v) => v ?? NaN), hi: d.depth.hi.map((v) => v ?? NaN) } }));
  root.append(
    el('ul', { class: 'compared' }, ...c.datasets.map((d) => el('li', { attrs: { 'data-name': d.name } }, link(`/datasets/${encodeURIComponent(d.name)}`, d.name), ` — ${d.experiment} of ${d.model}, ${d.samples} samples`))),
    el('h2', {}, 'Mean profiles on normalised depth'),
    depth,
    el('h2', {}, `Per-sample difference (${c.shared_total} samples in ${c.datasets.length > 2 ? 'all of them' : 'both'}${c.mean_abs_difference ? ', largest difference first' : ''})`),
    diffBox,
  );
  await chart(depth, bandFigure(series, { metric: c.metric, x: 'depth', title: `${metricAxisTitle(c.metric).replace(/ \(.*\)$/, '')} vs normalised depth, mean over steps`, colorTitle: 'dataset' }));

  const [a, b] = c.datasets;
  const show = async (id: string): Promise<void> => {
    clear(diffBox);
    const pick = select(
      c.shared.map((s, i) => ({ value: s, label: c.mean_abs_difference ? `${s} (mean |Δ| ${c.mean_abs_difference[i].toFixed(3)})` : s })),
      id,
      (v) => void show(v),
      { id: 'shared-sample' },
    );
    const plot = el('div', { class: 'chart', attrs: { id: 'diff-heatmap' } });
    diffBox.append(el('p', {}, 'sample ', pick, c.datasets.length > 2 ? ` (the difference is between the first two: ${a.name} and ${b.name})` : ''), plot);
    try {
      const d = await getJson<CompareSample>('/api/compare/sample', { datasets: `${a.name},${b.name}`, sample_id: id, metric: c.metric });
      diffBox.insertBefore(el('pre', { class: 'text-block' }, d.prompt), plot);
      diffBox.insertBefore(el('p', { class: 'hint' }, ...d.datasets.map((x, i) => `${i ? ' · ' : ''}${x.name}: ${JSON.stringify(x.completion)}`)), plot);
      if (d.diff.every((row) => row.every((v) => v === 0))) {
        plot.append(el('p', { class: 'hint' }, 'The two profiles of this sample are identical.'));
        return;
      }
      await chart(
        plot,
        heatmap(d.diff, {
          metric: d.metric,
          title: `${id}: ${b.name} minus ${a.name}`,
          valueTitle: `Δ ${metricAxisTitle(d.metric)}`,
          diverging: true,
          xLabel: d.x === 'layer' ? 'layer (block index)' : `normalised depth, ${d.xs.length} points (layers interpolated)`,
        }),
      );
    } catch (err) {
      plot.append(errorBox(err));
    }
  };
  if (c.shared.length === 0) diffBox.append(el('p', { class: 'hint' }, 'These datasets share no sample_id.'));
  else await show(c.shared[0]);
}
