/** The human-readable views of the CLI. */
import type { LensModel, ProfileResult } from '../lens/model.js';

function quote(model: LensModel, id: number): string {
  const t = model.tokenText(id);
  return t === null ? `#${id}` : JSON.stringify(t);
}

/** The reference's decoded-layers view: per step the chosen token, per layer the metrics and the lens' top-1 token. */
export function printHuman(model: LensModel, r: ProfileResult, first: boolean): void {
  const out: string[] = [];
  const names = Object.keys(r.metrics);
  if (!first) out.push('');
  const head = r.prompt !== null ? JSON.stringify(r.prompt) : `ids [${r.inputIds.join(', ')}]`;
  out.push(`prompt ${r.index + 1}: ${head} (${r.inputIds.length} tokens)`);
  if (r.completion !== null) out.push(`completion: ${JSON.stringify(r.completion)}`);
  const width = Math.max(8, ...names.map((n) => n.length));
  for (let t = 0; t < r.generatedIds.length; t++) {
    out.push(`  step ${t} → ${quote(model, r.generatedIds[t])}`);
    out.push(`    ${'layer'.padStart(5)}  ${names.map((n) => n.padStart(width)).join('  ')}  lens top-1${r.topk ? ' / top-k (p)' : ''}`);
    for (let l = 0; l < r.argmax[t].length; l++) {
      const vals = names.map((n) => r.metrics[n][t][l].toFixed(4).padStart(width)).join('  ');
      let tail = quote(model, r.argmax[t][l]);
      if (r.topk) tail = r.topk.ids[t][l].map((id, j) => `${quote(model, id)} ${r.topk!.probs[t][l][j].toFixed(3)}`).join(', ');
      out.push(`    ${String(l).padStart(5)}  ${vals}  ${tail}`);
    }
  }
  if (r.windows) {
    for (const [n, w] of Object.entries(r.windows)) {
      out.push(`  ${n}, mean over ${w.length} window(s) of steps, per layer:`);
      w.forEach((row, i) => out.push(`    window ${i}: ${row.map((v) => v.toFixed(4)).join(' ')}`));
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}
