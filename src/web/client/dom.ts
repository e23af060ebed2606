/** Building the page from text only: every string becomes a text node (never HTML), and one floating tooltip. */

type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** Attributes set with setAttribute (href, type, value, data-*, …). */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (e: HTMLElementEventMap[K]) => void };
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  for (const [k, v] of Object.entries(props.attrs ?? {})) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const [k, fn] of Object.entries(props.on ?? {})) e.addEventListener(k, fn as EventListener);
  append(e, ...children);
  return e;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}

/** A link to another page of the viewer. */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return el('a', { attrs: { href } }, ...children);
}

/** A box that shows an error message (text) in place of content. */
export function errorBox(err: unknown): HTMLElement {
  return el('div', { class: 'error', attrs: { role: 'alert' } }, err instanceof Error ? err.message : String(err));
}

/** A <select> with options; value changes call onChange. */
export function select(options: { value: string; label?: string }[], value: string, onChange: (v: string) => void, attrs: Props['attrs'] = {}): HTMLSelectElement {
  const s = el('select', { attrs, on: { change: () => onChange(s.value) } }, ...options.map((o) => el('option', { attrs: { value: o.value } }, o.label ?? o.value)));
  s.value = value;
  return s;
}

let tipEl: HTMLElement | undefined;

/** The one floating tooltip, filled with `content` next to the pointer. */
export function showTip(x: number, y: number, ...content: Child[]): void {
  if (!tipEl) {
    tipEl = el('div', { attrs: { id: 'tip', role: 'tooltip' } });
    document.body.appendChild(tipEl);
  }
  clear(tipEl);
  append(tipEl, ...content);
  tipEl.classList.add('visible');
  const pad = 14;
  const { innerWidth: w, innerHeight: h } = window;
  const r = tipEl.getBoundingClientRect();
  tipEl.style.left = `${Math.min(x + pad, w - r.width - 4)}px`;
  tipEl.style.top = `${y + pad + r.height > h ? Math.max(4, y - pad - r.height) : y + pad}px`;
}

export function hideTip(): void {
  tipEl?.classList.remove('visible');
}

/** Key/value rows for a tooltip. */
export function tipTable(rows: [string, string][]): HTMLTableElement {
  return el('table', {}, ...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));
}
