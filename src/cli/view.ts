/** The human-readable views of the CLI. */
import type { LensModel, ProfileResult } from '../lens/model.js';

function quote(model: LensModel, id: number): string {
  const t = model.tokenText(id);
  return t === null ? `#${id}` : JSON.stringify(t);
}

/**
 * A metric value for the table: four decimals, scientific notation where that would hide the number
 * (|v| < 0.001, e.g. moment:2 ≈ 1e-5, or ≥ 100000), and zero without a sign (kl:final's last layer).
 */
export function formatValue(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(3);
  return v.toFixed(4);
}

/** Metric columns in groups that fit the terminal (or 100 columns) beside the layer and top-1 columns. */
export function columnGroups(names: string[], width: number, budget: number): string[][] {
  const fixed = 4 + 5 + 2 + 24; // indent, layer, gap, a top-1 token
  const per = Math.max(1, Math.floor((budget - fixed) / (width + 2)));
  const groups: string[][] = [];
  for (let i = 0; i < names.length; i += per) groups.push(names.slice(i, i + per));
  return groups;
}

/** Names of the lensed layers of a result: block indices, with "embed" first when the embeddings were lensed. */
export function layerNames(model: LensModel, layers: number): string[] {
  const blocks = Array.from({ length: model.spec.nLayers }, (_, l) => String(l));
  return layers > model.spec.nLayers ? ['embed', ...blocks] : blocks;
}

/** The lens over the prompt's positions: per position the first metric at every layer, and the next token's rank. */
function positionsView(model: LensModel, r: ProfileResult, out: string[]): void {
  const p = r.positions!;
  const metric = Object.keys(p.metrics)[0];
  const layers = layerNames(model, p.argmax[0]?.length ?? 0);
  const tok = (id: number): string => {
    const q = quote(model, id);
    return q.length > 14 ? `${q.slice(0, 13)}…` : q;
  };
  const more = Object.keys(p.metrics).length > 1 ? ' (--json has every metric)' : '';
  out.push(`  prompt positions: ${metric} per layer, then the rank of the next token (0 = the lens' top token)${more}`);
  out.push(`    ${'pos'.padStart(4)}  ${'token'.padEnd(15)}${'next'.padEnd(15)}${layers.map((n) => n.padStart(7)).join('')}`);
  for (let i = 0; i < p.ids.length; i++) {
    const next = i + 1 < p.ids.length ? tok(p.ids[i + 1]) : '';
    out.push(`    ${String(i).padStart(4)}  ${tok(p.ids[i]).padEnd(15)}${next.padEnd(15)}${p.metrics[metric][i].map((v) => v.toFixed(2).padStart(7)).join('')}`);
    if (i + 1 < p.ids.length) out.push(`    ${''.padStart(4)}  ${''.padEnd(15)}${'rank'.padStart(14)} ${p.nextRank[i].map((v) => String(v).padStart(7)).join('')}`);
  }
}

/** The reference's decoded-layers view: per step the chosen token, per layer the metrics and the lens' top-1 token. */
export function printHuman(model: LensModel, r: ProfileResult, first: boolean): void {
  const out: string[] = [];
  const names = Object.keys(r.metrics);
  if (!first) out.push('');
  const head = r.prompt !== null ? JSON.stringify(r.prompt) : `ids [${r.inputIds.join(', ')}]`;
  out.push(`prompt ${r.index + 1}: ${head} (${r.inputIds.length} tokens)`);
  if (r.completion !== null && r.generatedIds.length > 0) out.push(`completion: ${JSON.stringify(r.completion)}`);
  if (r.positions) positionsView(model, r, out);
  const width = Math.max(10, ...names.map((n) => n.length));
  const groups = columnGroups(names, width, Math.max(80, process.stdout.columns ?? 100));
  const layers = layerNames(model, r.argmax[0]?.length ?? 0);
  for (let t = 0; t < r.generatedIds.length; t++) {
    out.push(`  step ${t} → ${quote(model, r.generatedIds[t])}`);
    groups.forEach((group, g) => {
      const last = g === groups.length - 1;
      out.push(`    ${'layer'.padStart(5)}  ${group.map((n) => n.padStart(width)).join('  ')}${last ? `  lens top-1${r.topk ? ' / top-k (p)' : ''}` : ''}`);
      for (let l = 0; l < r.argmax[t].length; l++) {
        // ranks are counts: shown as integers
        const vals = group.map((n) => (n.startsWith('rank:') ? String(r.metrics[n][t][l]) : formatValue(r.metrics[n][t][l])).padStart(width)).join('  ');
        let tail = '';
        if (last) tail = `  ${r.topk ? r.topk.ids[t][l].map((id, j) => `${quote(model, id)} ${r.topk!.probs[t][l][j].toFixed(3)}`).join(', ') : quote(model, r.argmax[t][l])}`;
        out.push(`    ${layers[l].padStart(5)}  ${vals}${tail}`);
      }
    });
  }
  if (r.target && r.generatedIds.length > 0) {
    out.push(`  target ${quote(model, r.target.id)} (#${r.target.id}): rank per layer (0 = the lens' top token), probability at the last layer`);
    r.target.rank.forEach((row, t) => out.push(`    step ${t}: ${row.map((v) => String(v).padStart(6)).join('')}   p = ${formatValue(Math.exp(r.target!.logprob[t][row.length - 1]))}`));
  }
  if (r.windows) {
    for (const [n, w] of Object.entries(r.windows)) {
      out.push(`  ${n}, mean over ${w.length} window(s) of steps, per layer:`);
      w.forEach((row, i) => out.push(`    window ${i}: ${row.map(formatValue).join(' ')}`));
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}
