/** A sample's page (/datasets/NAME/samples/ID): its prompt and completion, and the logit-lens table. */
import type { SampleDetail } from '../../api-types.js';
import { datasetApi, getJson } from '../api.js';
import { clear, el, errorBox, link, select } from '../dom.js';
import { lensTable, type LensColumn } from '../lens-table.js';

export function columnsOf(s: SampleDetail): LensColumn[] {
  return s.values.map((values, t) => ({
    values,
    ...(s.generated ? { token: { id: s.generated.ids[t], text: s.generated.tokens[t] } } : {}),
    ...(s.topk ? { topk: s.topk.ids[t].map((ids, l) => ({ ids, tokens: s.topk!.tokens[t][l], probs: s.topk!.probs[t][l] })) } : {}),
  }));
}

export async function samplePage(root: HTMLElement, name: string, id: string): Promise<void> {
  const url = `${datasetApi(name)}/samples/${encodeURIComponent(id)}`;
  const metric = new URLSearchParams(location.search).get('metric') ?? undefined;
  const s = await getJson<SampleDetail>(url, { metric });
  const tableBox = el('section', { attrs: { id: 'lens' } });
  const draw = async (m: string): Promise<void> => {
    history.replaceState(null, '', `${location.pathname}?metric=${encodeURIComponent(m)}`);
    try {
      const d = m === s.metric ? s : await getJson<SampleDetail>(url, { metric: m });
      clear(tableBox);
      tableBox.append(lensTable({ metric: d.metric, nLayers: d.n_layers, columns: columnsOf(d) }));
    } catch (err) {
      clear(tableBox);
      tableBox.append(errorBox(err));
    }
  };
  root.append(
    el('p', { class: 'crumbs' }, link('/', 'datasets'), ' / ', link(`/datasets/${encodeURIComponent(name)}`, name), ' / ', id),
    el('h1', {}, id),
    el('p', { class: 'labels' }, ...Object.entries(s.labels).map(([k, v]) => el('span', { class: 'chip' }, `${k}: ${v === null ? '(none)' : String(v)}`))),
    el('h2', {}, 'Prompt'),
    el('pre', { class: 'text-block', attrs: { id: 'prompt' } }, s.prompt),
    el('h2', {}, 'Completion'),
    el('pre', { class: 'text-block', attrs: { id: 'completion' } }, s.completion),
    el(
      'h2',
      {},
      'Logit lens ',
      select(
        s.metrics.map((m) => ({ value: m })),
        s.metric,
        (m) => void draw(m),
        { id: 'metric' },
      ),
    ),
    el(
      'p',
      { class: 'hint' },
      s.topk
        ? `Rows are layers (block outputs, 0 = first block), columns the generated tokens; each cell shows the lens' most likely next token there, coloured by ${s.metric}. Hover a cell for its top-${s.topk.k} with probabilities.`
        : `Rows are layers, columns the generated steps, coloured and labelled by ${s.metric}. This dataset has no top-k tokens: run with --top-k 5 to see what each layer predicts.`,
      !s.generated || s.generated.tokens.every((t) => t !== null) ? '' : ' (no tokenizer found for this model: tokens shown as ids)',
    ),
    tableBox,
  );
  await draw(s.metric);
}
