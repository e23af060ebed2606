/**
 * Vega-Lite charts in the page, drawn from the same spec builders as the static figures
 * (src/plot/figures.ts), with vega's expression interpreter (no eval: the page's CSP forbids it) and
 * a tooltip that writes text only.
 */
import embed from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';
import type { Spec } from '../../plot/figures.js';
import { hideTip, showTip, tipTable } from './dom.js';

function tooltip(_handler: unknown, event: MouseEvent, _item: unknown, value: unknown): void {
  if (value === undefined || value === null || value === '') {
    hideTip();
    return;
  }
  const rows: [string, string][] = typeof value === 'object' ? Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]) : [['', String(value)]];
  showTip(event.clientX, event.clientY, tipTable(rows));
}

/** Draws `spec` into `el`; `onClick` gets the datum of a clicked mark. */
export async function chart(el: HTMLElement, spec: Spec, onClick?: (datum: Record<string, unknown>) => void): Promise<void> {
  const r = await embed(el, spec as Parameters<typeof embed>[1], { actions: false, renderer: 'svg', ast: true, expr: expressionInterpreter, defaultStyle: false, tooltip });
  if (onClick) {
    r.view.addEventListener('click', (_e, item) => {
      const datum = (item as { datum?: Record<string, unknown> } | null | undefined)?.datum;
      if (datum) onClick(datum);
    });
  }
  el.addEventListener('mouseleave', hideTip);
}
