/**
 * The live page (/live, with view --model): a prompt and the profile options; the model runs on
 * the server and the logit-lens table fills step by step. A finished run can be pinned to compare
 * the next one (e.g. with an intervention) beside it.
 */
import type { LiveInfo, LiveStep, ProfileDocument } from '../../api-types.js';
import { getJson, postStream } from '../api.js';
import { clear, el, errorBox } from '../dom.js';
import { domainOf, lensTable, type LensColumn } from '../lens-table.js';

interface Run {
  title: string;
  metric: string;
  nLayers: number;
  columns: LensColumn[];
  doc?: ProfileDocument;
}

function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return el('label', { class: 'field' }, el('span', {}, label), input, hint ? el('small', {}, hint) : null);
}

function input(id: string, value: string, attrs: Record<string, string | number> = {}): HTMLInputElement {
  return el('input', { attrs: { id, value, ...attrs } });
}

function listOf(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export async function livePage(root: HTMLElement): Promise<void> {
  const info = await getJson<LiveInfo>('/api/live');
  root.append(el('h1', {}, 'Live profiling'));
  if (!info.enabled) {
    root.append(el('p', { class: 'hint' }, 'Live profiling needs a model: start the viewer with --model, e.g. entropylens view results/ --model ./gpt2'));
    return;
  }
  const prompt = el('textarea', { attrs: { id: 'prompt', rows: 3, maxlength: info.max_prompt_chars, placeholder: 'Once upon a time' } });
  const maxNew = input('max-new-tokens', '8', { type: 'number', min: 1, max: info.max_new_tokens });
  const metrics = input('metrics', 'shannon');
  const topK = input('top-k', '5', { type: 'number', min: 0 });
  const temperature = input('temperature', '0', { type: 'number', min: 0, step: 'any' });
  const seed = input('seed', '0', { type: 'number', min: 0 });
  const scale = input('scale-block', '', { placeholder: 'e.g. 3:0.5' });
  const skip = input('skip-block', '', { placeholder: 'e.g. 2' });
  const runBtn = el('button', { attrs: { type: 'submit', id: 'run' } }, 'Run');
  const pinBtn = el('button', { attrs: { type: 'button', id: 'pin', disabled: true } }, 'Pin this run');
  const status = el('p', { class: 'status', attrs: { id: 'status', 'aria-live': 'polite' } });
  const pinnedBox = el('div', { class: 'run', attrs: { id: 'pinned' } });
  const currentBox = el('div', { class: 'run', attrs: { id: 'current' } });
  let pinned: Run | undefined;
  let current: Run | undefined;
  let controller: AbortController | undefined;
  const texts = new Map<number, string | null>();

  const draw = (box: HTMLElement, r: Run | undefined, empty: string): void => {
    clear(box);
    if (!r) {
      box.append(el('p', { class: 'hint' }, empty));
      return;
    }
    // Two runs of one metric share a colour scale, so their colours compare.
    const both = [pinned, current].filter((x): x is Run => x !== undefined && x.metric === r.metric);
    box.append(el('h3', {}, r.title), lensTable({ metric: r.metric, nLayers: r.nLayers, columns: r.columns, domain: domainOf(both.flatMap((x) => x.columns)) }));
  };
  const drawAll = (): void => {
    draw(pinnedBox, pinned, 'Pin a finished run to keep it here for comparison.');
    draw(currentBox, current, 'Run a prompt to see its logit lens.');
  };

  const form = el(
    'form',
    { class: 'live-form', attrs: { id: 'live-form' } },
    field('prompt', prompt),
    el('div', { class: 'controls' }, field('max new tokens', maxNew, `≤ ${info.max_new_tokens}`), field('metrics', metrics, 'comma list, e.g. shannon,renyi:0.5'), field('top-k', topK), field('temperature', temperature, '0 = greedy'), field('seed', seed)),
    el('div', { class: 'controls' }, field('--scale-block L:F', scale, 'comma list'), field('--skip-block L', skip, 'comma list'), runBtn, pinBtn),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    controller?.abort();
    controller = new AbortController();
    const body = {
      prompt: prompt.value,
      max_new_tokens: maxNew.value,
      metrics: metrics.value,
      top_k: topK.value,
      temperature: temperature.value,
      seed: seed.value,
      scale_block: listOf(scale.value),
      skip_block: listOf(skip.value),
    };
    const metric = listOf(metrics.value)[0] ?? 'shannon';
    const extras = [...listOf(scale.value).map((s) => `scale ${s}`), ...listOf(skip.value).map((s) => `skip ${s}`)];
    current = { title: `${JSON.stringify(prompt.value.slice(0, 60))}${extras.length ? ` (${extras.join(', ')})` : ''}`, metric, nLayers: info.n_layers ?? 0, columns: [] };
    const run = current;
    pinBtn.disabled = true;
    status.textContent = 'waiting for the model…';
    drawAll();
    postStream(
      '/api/profile',
      body,
      (event, data) => {
        if (event === 'tokens') {
          for (const [id, text] of Object.entries(data as Record<string, string | null>)) texts.set(Number(id), text);
        } else if (event === 'step') {
          const s = data as LiveStep;
          run.columns[s.step] = {
            token: { id: s.token_id, text: s.token },
            values: s.metrics[metric] ?? Object.values(s.metrics)[0],
            ...(s.topk ? { topk: s.topk.ids.map((ids, l) => ({ ids, tokens: s.topk!.tokens[l], probs: s.topk!.probs[l] })) } : {}),
          };
          status.textContent = `step ${s.step + 1} of ${body.max_new_tokens}…`;
          draw(currentBox, run, '');
        } else if (event === 'result') {
          const doc = data as ProfileDocument;
          run.doc = doc;
          const r = doc.results[0];
          // The final run is the profile itself: its numbers replace the step previews.
          const text = (id: number): string | null => texts.get(id) ?? null;
          run.columns = r.generated_ids.map((id, t) => ({
            token: { id, text: text(id) },
            values: r.metrics[metric] ? r.metrics[metric][t] : Object.values(r.metrics)[0][t],
            ...(r.topk ? { topk: r.topk.ids[t].map((ids, l) => ({ ids, tokens: ids.map(text), probs: r.topk!.probs[t][l] })) } : {}),
          }));
          run.title += ` → ${JSON.stringify(r.completion ?? '')}`;
          status.textContent = `done: ${r.generated_ids.length} tokens in ${doc.timing.generate_seconds} s`;
          pinBtn.disabled = false;
          drawAll();
        } else if (event === 'error') {
          status.textContent = '';
          currentBox.append(errorBox((data as { error: string }).error));
        }
      },
      controller.signal,
    ).catch((err: unknown) => {
      if ((err as Error).name === 'AbortError') return;
      status.textContent = '';
      clear(currentBox);
      currentBox.append(errorBox(err));
    });
  });
  pinBtn.addEventListener('click', () => {
    pinned = current;
    current = undefined;
    pinBtn.disabled = true;
    drawAll();
  });
  root.append(
    el('p', { class: 'hint' }, `Model: ${info.model} (${info.n_layers} layers). The options are those of entropylens profile; the numbers are exactly profile --json's.`),
    form,
    status,
    el('div', { class: 'runs' }, pinnedBox, currentBox),
  );
  drawAll();
}
