/**
 * Renders every figure type from synthetic profiles, so the figures can be looked at:
 *   npx tsc -p . && node dist/bench/plot-demo.js [outDir]
 * Prints the written files and the render time of each.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { depthCurves, heatmap, labelProfiles, renderSpec, scatter } from '../src/plot/index.js';
import type { ProfileRow, Spec } from '../src/plot/index.js';
import { mulberry32 } from '../src/util/rng.js';

const rng = mulberry32(7);
const gauss = (): number => {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
};

/** A family's entropy shape over normalised depth d in (0, 1]: high, a bump, then a drop. */
const shapes: Record<string, (d: number) => number> = {
  gpt2: (d) => 7 + 1.5 * Math.sin(Math.PI * d) - 5 * d ** 4,
  llama: (d) => 9 - 2 * d + 1.2 * Math.exp(-((d - 0.6) ** 2) / 0.02) - 5 * d ** 8,
  gemma: (d) => 10 + 0.8 * Math.cos(3 * Math.PI * d) - 6 * d ** 6,
  qwen3: (d) => 8 + 2 * d - 7 * d ** 10,
};
const models: { model: string; family: string; L: number; size: number }[] = [
  { model: 'gpt2-small', family: 'gpt2', L: 12, size: 124e6 },
  { model: 'gpt2-medium', family: 'gpt2', L: 24, size: 355e6 },
  { model: 'gpt2-large', family: 'gpt2', L: 36, size: 774e6 },
  { model: 'gpt2-xl', family: 'gpt2', L: 48, size: 1.5e9 },
  { model: 'Llama-3.2-1B-Instruct', family: 'llama', L: 16, size: 1.24e9 },
  { model: 'Llama-3.2-3B-Instruct', family: 'llama', L: 28, size: 3.2e9 },
  { model: 'Meta-Llama-3-8B-Instruct', family: 'llama', L: 32, size: 8e9 },
  { model: 'gemma-2-2b-it', family: 'gemma', L: 26, size: 2.6e9 },
  { model: 'gemma-2-9b-it', family: 'gemma', L: 42, size: 9.2e9 },
  { model: 'qwen3-1.7b', family: 'qwen3', L: 28, size: 1.7e9 },
  { model: 'qwen3-4b', family: 'qwen3', L: 36, size: 4e9 },
  { model: 'qwen3-8b', family: 'qwen3', L: 36, size: 8.2e9 },
];

const rows: ProfileRow[] = [];
for (const m of models) {
  for (let s = 0; s < 64; s++) {
    const offset = 0.3 * gauss();
    const values = Array.from({ length: m.L }, (_, l) => shapes[m.family]((l + 1) / m.L) + offset + 0.4 * gauss() + Math.log10(m.size) * 0.1);
    rows.push({ model: m.model, family: m.family, sizeParams: m.size, nLayers: m.L, values });
  }
}

// t-SNE-like clusters: one blob per family, sub-blobs per model.
const points = rows.map((r, i) => {
  const fi = Object.keys(shapes).indexOf(r.family!);
  const mi = models.findIndex((m) => m.model === r.model);
  return {
    x: 20 * Math.cos(fi * 1.6) + 4 * Math.cos(mi) + 1.5 * gauss(),
    y: 20 * Math.sin(fi * 1.6) + 4 * Math.sin(mi) + 1.5 * gauss(),
    color: r.family!,
    size: r.sizeParams,
    tooltip: `${r.model} #${i}`,
  };
});

// One sample's T × L matrix (gpt2-medium, 32 generated tokens).
const T = 32;
const L = 24;
const matrix = Array.from({ length: T }, (_, t) => Array.from({ length: L }, (_, l) => Math.max(0, shapes.gpt2((l + 1) / L) - 1.5 * Math.sin(t / 3) ** 2 * ((l + 1) / L) + 0.2 * gauss())));

// Label profiles: tinystories task groups, mmlu correctness, formats (gemma-2-2b, 26 layers).
const labelled = (labels: string[], n: number, L: number) =>
  labels.flatMap((label, k) =>
    Array.from({ length: n }, () => ({ label, values: Array.from({ length: L }, (_, l) => shapes.gemma((l + 1) / L) + 0.6 * k * Math.sin((Math.PI * l) / L) + 0.5 * gauss()) })),
  );

// A long generation with a gap (NaN) and two models with labels, to check scale and faceting.
const big = Array.from({ length: 256 }, (_, t) => Array.from({ length: 48 }, (_, l) => (t === 100 && l === 10 ? NaN : shapes.gpt2((l + 1) / 48) + 0.3 * Math.sin(t / 20) + 0.2 * gauss())));
const twoModels: ProfileRow[] = ['gemma-2-2b-it', 'qwen3-1.7b'].flatMap((model, mi) =>
  labelled(['continuation', 'counting', 'semantic'], 12, mi === 0 ? 26 : 28).map((r) => ({ model, label: r.label, nLayers: r.values.length, values: r.values })),
);

const figures: [string, Spec][] = [
  ['heatmap-256x48', heatmap(big, { metric: 'kl:final' })],
  ['depth-by-label', depthCurves(twoModels, { metric: 'shannon', groupBy: 'label' })],
  ['depth-by-family', depthCurves(rows, { metric: 'shannon', groupBy: 'family', title: 'Entropy profiles by model family' })],
  ['depth-by-model', depthCurves(rows.filter((r) => r.family === 'gpt2' || r.family === 'qwen3'), { metric: 'renyi:0.5', groupBy: 'model' })],
  ['heatmap', heatmap(matrix, { metric: 'shannon', title: 'gpt2-medium, one sample' })],
  ['heatmap-windows', heatmap(matrix.slice(0, 8), { metric: 'renyi:5', title: 'Format "table": mean of 8 windows', yLabel: 'window (32 tokens each)' })],
  ['tsne', scatter(points, { title: 't-SNE of entropy profiles', colorTitle: 'family', sizeTitle: 'parameters' })],
  ['labels-tinystories', labelProfiles(labelled(['continuation', 'counting', 'semantic'], 100, 26), { metric: 'shannon', title: 'TinyStories: mean profile per task group' })],
  ['labels-mmlu', labelProfiles(labelled(['correct', 'incorrect'], 200, 26), { metric: 'shannon', title: 'MMLU: correct vs incorrect answers' })],
  ['labels-formats', labelProfiles(labelled(['Write a list about', 'Write a narrative about', 'Write a table about'], 182, 26), { metric: 'renyi:inf' })],
];

const outDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'entropylens-plot-'));
for (const [name, spec] of figures) {
  const t0 = performance.now();
  const out = await renderSpec(spec, join(outDir, name));
  const ms = performance.now() - t0;
  console.log(`${name}: ${out.png} (${ms.toFixed(0)} ms)${out.warnings.length ? `\n  ${out.warnings.join('\n  ')}` : ''}`);
}
