/**
 * A dataset's page (/datasets/NAME): mean profiles per label value with their 95% bands (against
 * layer and normalised depth), a steps × layers heatmap per value, the kNN-vs-dummy evaluation on
 * demand, a 2-D map of the samples, and the samples themselves. The controls live in the URL's
 * query, so a view can be shared or reloaded.
 */
import { bandFigure, heatmap, scatter, sharedDomain } from '../../../plot/figures.js';
import type { DatasetInfo, EvaluateResult, MapResult, SamplesPage, Summary } from '../../api-types.js';
import { datasetApi, getJson } from '../api.js';
import { chart } from '../charts.js';
import { append, clear, el, errorBox, link, select } from '../dom.js';

interface View {
  metric: string;
  label: string;
  windows: string;
  values: string[];
}

const PAGE = 25;
const MAX_HEATMAPS = 12;

function readView(info: DatasetInfo, defaults: { metric: string; label: string }): View {
  const q = new URLSearchParams(location.search);
  return {
    metric: q.get('metric') || defaults.metric,
    label: q.get('label') || defaults.label,
    windows: q.get('windows') ?? '',
    values: (q.get('values') ?? '').split(',').filter((v) => v !== ''),
  };
}

function writeView(v: View): void {
  const q = new URLSearchParams();
  q.set('metric', v.metric);
  q.set('label', v.label);
  if (v.windows) q.set('windows', v.windows);
  if (v.values.length) q.set('values', v.values.join(','));
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

function params(v: View): Record<string, string> {
  return { metric: v.metric, label: v.label, windows: v.windows, values: v.values.join(',') };
}

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

/** Runs `work` into `box`, showing a note while it runs and the error if it fails. */
async function fill(box: HTMLElement, note: string, work: (box: HTMLElement) => Promise<void>): Promise<void> {
  clear(box);
  box.append(el('p', { class: 'loading' }, note));
  const inner = el('div');
  try {
    await work(inner);
    clear(box);
    box.append(inner);
  } catch (err) {
    clear(box);
    box.append(errorBox(err));
  }
}

export async function datasetPage(root: HTMLElement, name: string): Promise<void> {
  const api = datasetApi(name);
  const info = await getJson<DatasetInfo>(api);
  // The server's defaults (the experiment's label, shannon): read from an unparameterised summary.
  const first = await getJson<Summary>(`${api}/summary`).catch(() => undefined);
  const view = readView(info, { metric: first?.metric ?? info.metrics[0], label: first?.label ?? Object.keys(info.labels)[0] });

  const controls = el('div', { class: 'controls' });
  const profiles = el('section', { class: 'charts' });
  const heatmaps = el('section', { class: 'heatmaps' });
  const evaluation = el('section', { class: 'evaluation' });
  const map = el('section', { class: 'map' });
  const samples = el('section', { class: 'samples' });

  root.append(
    el('p', { class: 'crumbs' }, link('/', 'datasets'), ' / ', name),
    el('h1', {}, name),
    el(
      'p',
      { class: 'hint' },
      `${info.experiment || 'results'} of ${info.model || 'unknown model'} · ${info.samples.toLocaleString('en')} samples · ` +
        `${info.n_steps ?? 'mixed'} steps × ${info.n_layers ?? 'mixed'} layers · metrics ${info.metrics.join(', ')}` +
        (info.top_k ? ` · top-${info.top_k} tokens stored` : ' · no top-k tokens (run with --top-k 5 to see them per layer)'),
    ),
    controls,
    el('h2', {}, 'Mean profile per label value'),
    profiles,
    el('h2', {}, 'Steps × layers, mean per label value'),
    heatmaps,
    el('h2', {}, 'Map of the samples'),
    map,
    el('h2', {}, 'Does the profile predict the label? (kNN vs stratified dummy, as entropylens evaluate)'),
    evaluation,
    el('h2', {}, 'Samples'),
    samples,
  );

  let allValues: string[] = [];
  const redraw = async (): Promise<void> => {
    writeView(view);
    const unfiltered = await getJson<Summary>(`${api}/summary`, { ...params(view), values: '' }).catch(() => undefined);
    allValues = unfiltered?.groups.map((g) => g.value) ?? [];
    drawControls();
    void drawSummary();
    void drawMap('pca');
    drawEvaluation();
    void drawSamples(0, '');
  };

  function drawControls(): void {
    clear(controls);
    const set = (k: keyof View) => (v: string) => {
      (view[k] as string) = v;
      if (k === 'label') view.values = [];
      void redraw();
    };
    const windows = info.n_steps ? [{ value: '', label: `stored steps (${info.n_steps})` }, ...divisors(info.n_steps).map((d) => ({ value: String(d), label: `${d} window${d > 1 ? 's' : ''}` }))] : [{ value: '', label: 'stored steps' }];
    const filter = el(
      'fieldset',
      { class: 'filter' },
      el('legend', {}, `${view.label} values shown`),
      ...allValues.map((v) => {
        const box = el('input', { attrs: { type: 'checkbox', value: v, checked: view.values.length === 0 || view.values.includes(v) } });
        box.addEventListener('change', () => {
          const on = [...filter.querySelectorAll<HTMLInputElement>('input:checked')].map((b) => b.value);
          view.values = on.length === allValues.length ? [] : on;
          void redraw();
        });
        return el('label', {}, box, ` ${v}`);
      }),
    );
    controls.append(
      el('label', {}, 'metric ', select(info.metrics.map((m) => ({ value: m })), view.metric, set('metric'), { id: 'metric' })),
      el('label', {}, 'label ', select(Object.keys(info.labels).map((l) => ({ value: l })), view.label, set('label'), { id: 'label' })),
      el('label', {}, 'steps ', select(windows, view.windows, set('windows'), { id: 'windows' })),
      filter,
    );
  }

  async function drawSummary(): Promise<void> {
    let s: Summary;
    try {
      s = await getJson<Summary>(`${api}/summary`, params(view));
    } catch (err) {
      clear(profiles);
      clear(heatmaps);
      profiles.append(errorBox(err));
      return;
    }
    const series = s.groups.map((g) => ({ label: `${g.value} (n=${g.n})`, band: { n: g.n, mean: g.profile.mean.map((v) => v ?? NaN), lo: g.profile.lo.map((v) => v ?? NaN), hi: g.profile.hi.map((v) => v ?? NaN) } }));
    clear(profiles);
    const byLayer = el('div', { class: 'chart', attrs: { id: 'profile-layer' } });
    const byDepth = el('div', { class: 'chart', attrs: { id: 'profile-depth' } });
    profiles.append(byLayer, byDepth);
    const size = { width: 330, height: 240 };
    await chart(byLayer, bandFigure(series, { metric: s.metric, x: 'layer', title: `Mean profile per ${s.label} (mean over steps)`, colorTitle: s.label, size }));
    await chart(byDepth, bandFigure(series, { metric: s.metric, x: 'depth', title: `Mean profile per ${s.label} vs normalised depth`, colorTitle: s.label, size }));
    clear(heatmaps);
    const shown = s.groups.slice(0, MAX_HEATMAPS);
    if (s.groups.length > shown.length) heatmaps.append(el('p', { class: 'hint' }, `the first ${shown.length} of ${s.groups.length} values; filter to see others`));
    const matrices = shown.map((g) => Array.from({ length: s.n_steps }, (_, t) => g.matrix.mean.slice(t * s.n_layers, (t + 1) * s.n_layers).map((v) => v ?? NaN)));
    // One colour scale for all values' heatmaps, so their colours compare (as in the static figures).
    const domain = sharedDomain(matrices);
    for (const [i, g] of shown.entries()) {
      const rows = matrices[i];
      const box = el('div', { class: 'chart heatmap', attrs: { 'data-value': g.value } });
      heatmaps.append(box);
      await chart(
        box,
        heatmap(rows, {
          metric: s.metric,
          title: `${s.label} = ${g.value}: mean of ${g.n} samples`,
          yLabel: s.windows ? `window of steps (${s.windows} windows)` : 'generated token (step)',
          domain,
          size: { width: 260, height: 200 },
        }),
      );
    }
  }

  async function drawMap(method: 'pca' | 'tsne'): Promise<void> {
    await fill(map, method === 'tsne' ? 't-SNE running on the server (up to 2,000 samples; this takes a while)…' : 'computing…', async (box) => {
      const m = await getJson<MapResult>(`${api}/map`, { ...params(view), method });
      const tsne = el('button', { attrs: { type: 'button', id: 'run-tsne' } }, 'Compute t-SNE');
      tsne.addEventListener('click', () => void drawMap('tsne'));
      const pca = el('button', { attrs: { type: 'button' } }, 'Back to PCA');
      pca.addEventListener('click', () => void drawMap('pca'));
      const plot = el('div', { class: 'chart', attrs: { id: 'map' } });
      append(
        box,
        el('p', { class: 'hint' }, `${m.method === 'pca' ? 'PCA' : 't-SNE'} of the profiles (${view.windows ? `${view.windows} windows` : 'mean over steps'} × layers), ${m.shown.toLocaleString('en')} of ${m.total.toLocaleString('en')} samples drawn. Hover a point for its prompt, click to open it. `, method === 'pca' ? tsne : pca),
        m.note ? el('p', { class: 'hint' }, m.note) : null,
        plot,
      );
      const points = m.points.map((p) => ({ x: p.x, y: p.y, color: p.label, id: p.sample_id, tooltip: `${p.sample_id}\nprompt: ${p.prompt}\ncompletion: ${p.completion}` }));
      await chart(plot, scatter(points, { title: `${m.method === 'pca' ? 'PCA' : 't-SNE'} of entropy profiles, coloured by ${m.label}`, colorTitle: m.label, xTitle: m.axis[0], yTitle: m.axis[1], size: { width: 640, height: 400 } }), (d) => {
        if (typeof d.id === 'string') location.href = `/datasets/${encodeURIComponent(name)}/samples/${encodeURIComponent(d.id)}`;
      });
    });
  }

  function drawEvaluation(): void {
    clear(evaluation);
    const k = el('input', { attrs: { type: 'number', min: 1, value: 29, id: 'eval-k' } });
    const folds = el('input', { attrs: { type: 'number', min: 2, value: 10, id: 'eval-folds' } });
    const out = el('div');
    const run = el('button', { attrs: { type: 'button', id: 'run-eval' } }, 'Evaluate');
    run.addEventListener('click', () => {
      void fill(out, 'evaluating on the server…', async (box) => {
        const r = await getJson<EvaluateResult>(`${api}/evaluate`, { ...params(view), windows: view.windows || '1', k: k.value, folds: folds.value });
        box.append(el('pre', { class: 'evaluation-text', attrs: { id: 'eval-text' } }, r.text), ...r.notes.map((n) => el('p', { class: 'hint' }, `note: ${n}`)));
      });
    });
    evaluation.append(
      el('p', { class: 'hint' }, `predicts '${view.label}' from the ${view.metric} profiles (${view.windows || 1} window${view.windows && view.windows !== '1' ? 's' : ''} of steps), ${view.values.length ? 'filtered values only' : 'all samples'}; same numbers as entropylens evaluate --label ${view.label} --metric ${view.metric} --windows ${view.windows || 1}`),
      el('div', { class: 'controls' }, el('label', {}, 'k ', k), el('label', {}, 'folds ', folds), run),
      out,
    );
  }

  async function drawSamples(offset: number, search: string): Promise<void> {
    await fill(samples, 'loading…', async (box) => {
      const page = await getJson<SamplesPage>(`${api}/samples`, { offset, limit: PAGE, metric: view.metric, label: view.label, values: view.values.join(','), q: search });
      const find = el('input', { attrs: { type: 'search', placeholder: 'search id, prompt, completion', value: search, id: 'sample-search' } });
      find.addEventListener('change', () => void drawSamples(0, find.value));
      const prev = el('button', { attrs: { type: 'button', disabled: offset === 0 } }, '‹ previous');
      prev.addEventListener('click', () => void drawSamples(Math.max(0, offset - PAGE), search));
      const next = el('button', { attrs: { type: 'button', disabled: offset + PAGE >= page.total } }, 'next ›');
      next.addEventListener('click', () => void drawSamples(offset + PAGE, search));
      box.append(
        el('div', { class: 'controls' }, find, prev, el('span', { class: 'hint' }, page.total ? `${offset + 1}–${Math.min(offset + PAGE, page.total)} of ${page.total.toLocaleString('en')}` : 'no samples'), next),
        el(
          'table',
          { class: 'grid', attrs: { id: 'samples' } },
          el('thead', {}, el('tr', {}, el('th', {}, 'sample'), el('th', {}, view.label), el('th', {}, 'prompt'), el('th', {}, 'completion'))),
          el(
            'tbody',
            {},
            ...page.samples.map((s) =>
              el(
                'tr',
                {},
                el('td', {}, link(`/datasets/${encodeURIComponent(name)}/samples/${encodeURIComponent(s.sample_id)}`, s.sample_id)),
                el('td', {}, String(s.labels[view.label] ?? '')),
                el('td', { class: 'text' }, s.prompt.length > 160 ? `…${s.prompt.slice(-160)}` : s.prompt),
                el('td', { class: 'text' }, s.completion),
              ),
            ),
          ),
        ),
      );
    });
  }

  await redraw();
}
