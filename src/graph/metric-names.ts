/** Lens metric names: the Metric type and the parser of `--metrics` (the math is in lens-head.ts). */
import { UserError } from '../util/errors.js';

/**
 * A lens metric, computed in the graph from the log-softmax of every layer's lens logits.
 * Canonical names (the keys of results): `shannon`, `renyi:A`, `moment:K`, `thresholded:shannon`,
 * `thresholded:moment:K`, `kl:final`, `kl:next`, `anchored:shannon`, `anchored:renyi:A`, `rank:final`.
 */
export type Metric =
  | { kind: 'shannon'; name: string }
  | { kind: 'renyi'; alpha: number; name: string }
  | { kind: 'moment'; k: number; name: string }
  | { kind: 'thresholded'; of: 'shannon' | { moment: number }; name: string }
  | { kind: 'kl'; target: 'final' | 'next'; name: string }
  | { kind: 'anchored'; alpha: number; name: string }
  /** The rank (0 = top) at every layer of the token the model's own output ranks first (the greedy token). */
  | { kind: 'rank'; target: 'final'; name: string };

export const METRIC_HELP =
  'shannon, renyi:A (A ≥ 0, or inf), moment:K, thresholded:shannon, thresholded:moment:K, kl:final, kl:next, anchored:shannon, anchored:renyi:A, rank:final';

function parseNumber(text: string, what: string, original: string): number {
  if (text === 'inf' || text === 'infinity') return Infinity;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) {
    throw new UserError(`metric '${original}': ${what} '${text}' is not a number (metrics: ${METRIC_HELP})`);
  }
  return v;
}

/** Number formatting of metric names: `renyi:0.5`, `renyi:2`, `renyi:inf`. */
function fmt(v: number): string {
  return v === Infinity ? 'inf' : String(v);
}

/** Parse one metric name; Rényi of order 1 is Shannon and is named so. */
export function parseMetric(text: string): Metric {
  const t = text.trim().toLowerCase();
  const parts = t.split(':');
  const bad = (): never => {
    throw new UserError(`unknown metric '${text}' (metrics: ${METRIC_HELP})`);
  };
  switch (parts[0]) {
    case 'shannon':
    case 'entropy':
      if (parts.length !== 1) bad();
      return { kind: 'shannon', name: 'shannon' };
    case 'renyi': {
      if (parts.length !== 2) bad();
      const alpha = parseNumber(parts[1], 'order', text);
      if (alpha < 0) throw new UserError(`metric '${text}': the Rényi order must be ≥ 0`);
      if (alpha === 1) return { kind: 'shannon', name: 'shannon' };
      return { kind: 'renyi', alpha, name: `renyi:${fmt(alpha)}` };
    }
    case 'moment': {
      if (parts.length !== 2) bad();
      const k = parseNumber(parts[1], 'power', text);
      if (!(k > 0) || k === Infinity) throw new UserError(`metric '${text}': the moment's power must be a positive number`);
      return { kind: 'moment', k, name: `moment:${fmt(k)}` };
    }
    case 'thresholded': {
      if (parts[1] === 'shannon' && parts.length === 2) return { kind: 'thresholded', of: 'shannon', name: 'thresholded:shannon' };
      if (parts[1] === 'moment' && parts.length === 3) {
        const k = parseNumber(parts[2], 'power', text);
        if (!(k > 0) || k === Infinity) throw new UserError(`metric '${text}': the moment's power must be a positive number`);
        return { kind: 'thresholded', of: { moment: k }, name: `thresholded:moment:${fmt(k)}` };
      }
      return bad();
    }
    case 'kl':
      if (parts.length === 2 && (parts[1] === 'final' || parts[1] === 'next')) {
        return { kind: 'kl', target: parts[1], name: `kl:${parts[1]}` };
      }
      return bad();
    case 'rank':
      if (parts.length === 2 && parts[1] === 'final') return { kind: 'rank', target: 'final', name: 'rank:final' };
      return bad();
    case 'anchored': {
      if (parts[1] === 'shannon' && parts.length === 2) return { kind: 'anchored', alpha: 1, name: 'anchored:shannon' };
      if (parts[1] === 'renyi' && parts.length === 3) {
        const alpha = parseNumber(parts[2], 'order', text);
        if (alpha < 0) throw new UserError(`metric '${text}': the Rényi order must be ≥ 0`);
        return { kind: 'anchored', alpha, name: alpha === 1 ? 'anchored:shannon' : `anchored:renyi:${fmt(alpha)}` };
      }
      return bad();
    }
    default:
      return bad();
  }
}

/** Parse a comma list (or array) of metric names, dropping duplicates but keeping the given spelling order. */
export function parseMetrics(spec: string | string[]): Metric[] {
  const items = (Array.isArray(spec) ? spec : spec.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UserError(`no metric given (metrics: ${METRIC_HELP})`);
  const out: Metric[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const m = parseMetric(item);
    if (!seen.has(m.name)) {
      seen.add(m.name);
      out.push(m);
    }
  }
  return out;
}

/**
 * Requested spellings that name a metric differently from its canonical name (`renyi:1` and
 * `entropy` are `shannon`, `anchored:renyi:1` is `anchored:shannon`): spelling → canonical name, so
 * results can answer to the name the user asked for as well.
 */
export function metricAliases(spec: string | string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (Array.isArray(spec) ? spec : spec.split(',')).map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = parseMetric(item);
    if (item !== m.name) out[item] = m.name;
  }
  return out;
}

/** Anchored metrics need anchor ids. */
export function needsAnchors(metrics: Metric[]): boolean {
  return metrics.some((m) => m.kind === 'anchored');
}
