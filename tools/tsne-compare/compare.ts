/**
 * Development script: entropylens's TSNE against scikit-learn's on random data sets, over seeds.
 *
 * Runs compare.py (beside this file) under a Python with scikit-learn, which draws the data sets
 * and runs scikit-learn's TSNE over the seeds; then runs ours on the same data with the same
 * settings and seeds, and prints the distributions of the final KL divergence and of
 * trustworthiness (k = 5) side by side: median [min, max] over seeds.
 *
 * Inits: `pca` and `random` are each library's own (seeded by random_state; our RandomState is
 * NumPy's, so `random` starts both from the same points); `pca-jitter` starts both from
 * scikit-learn's PCA initialisation with each coordinate moved by a relative 1e-6 (seeded), which
 * shows how much of the spread is t-SNE's sensitivity to rounding rather than the seed.
 *
 * Usage: node dist/tools/tsne-compare/compare.js [--python /usr/bin/python3] [--seeds 7]
 *          [--preset quick|full] [--methods barnes_hut,exact] [--inits pca,pca-jitter,random]
 *          [--save file.json] [--load file.json]
 * --save keeps scikit-learn's side (data and results) so that --load can rerun only ours.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TSNE, trustworthiness } from '../../src/analysis/index.js';

interface SetSpec { kind: string; n: number; d: number; data_seed: number }
type Init = 'pca' | 'pca-jitter' | 'random';
interface Run { method: 'barnes_hut' | 'exact'; init: Init; seed: number; start: number[][] | null; kl: number; n_iter: number; trust: number; seconds: number }
interface SetResult extends SetSpec { X: number[][]; runs: Run[] }
interface SklearnSide { sklearn: string; numpy: string; sets: SetResult[]; perplexity: number; n_iter: number }

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
};
if (args.includes('--help')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}

const PRESETS: Record<string, SetSpec[]> = {
  // The shape of the report, once per kind.
  quick: [
    { kind: 'blobs', n: 180, d: 48, data_seed: 1 },
    { kind: 'uniform', n: 180, d: 48, data_seed: 2 },
    { kind: 'profiles', n: 180, d: 48, data_seed: 3 },
  ],
  // Rows 150–600, features 10–200, three kinds.
  full: [
    { kind: 'blobs', n: 150, d: 10, data_seed: 11 },
    { kind: 'blobs', n: 180, d: 48, data_seed: 1 },
    { kind: 'blobs', n: 400, d: 200, data_seed: 12 },
    { kind: 'blobs', n: 600, d: 30, data_seed: 13 },
    { kind: 'uniform', n: 150, d: 200, data_seed: 21 },
    { kind: 'uniform', n: 180, d: 48, data_seed: 2 },
    { kind: 'uniform', n: 600, d: 10, data_seed: 22 },
    { kind: 'profiles', n: 180, d: 48, data_seed: 3 },
    { kind: 'profiles', n: 300, d: 26, data_seed: 31 },
    { kind: 'profiles', n: 600, d: 100, data_seed: 32 },
  ],
};

const PERPLEXITY = 20;
const N_ITER = 300;

function sklearnSide(): SklearnSide {
  const load = opt('load', '');
  if (load) return JSON.parse(readFileSync(load, 'utf8')) as SklearnSide;
  const preset = opt('preset', 'quick');
  const sets = PRESETS[preset];
  if (!sets) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
  const nSeeds = Number(opt('seeds', '7'));
  const spec = {
    sets,
    seeds: Array.from({ length: nSeeds }, (_, i) => i),
    methods: opt('methods', 'barnes_hut,exact').split(','),
    inits: opt('inits', 'pca,pca-jitter,random').split(','),
    perplexity: PERPLEXITY,
    n_iter: N_ITER,
  };
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'tools', 'tsne-compare', 'compare.py');
  const python = opt('python', '/usr/bin/python3');
  const r = spawnSync(python, [script, JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${python} ${script} failed (exit ${r.status}); it needs scikit-learn (apt-get install python3-sklearn)`);
  const out = { ...(JSON.parse(r.stdout) as SklearnSide), perplexity: PERPLEXITY, n_iter: N_ITER };
  const save = opt('save', '');
  if (save) writeFileSync(save, JSON.stringify(out));
  return out;
}

const stats = (v: number[]): { med: number; min: number; max: number } => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { med: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] };
};
const fmt = (v: number[], digits: number): string => {
  const { med, min, max } = stats(v);
  return `${med.toFixed(digits)} [${min.toFixed(digits)}, ${max.toFixed(digits)}]`;
};

const side = sklearnSide();
// Per method/init: how many sets have our median inside scikit-learn's range, and the ratios of medians.
const summary = new Map<string, { inside: number; ratios: number[] }>();
console.log(`scikit-learn ${side.sklearn} (NumPy ${side.numpy}) vs entropylens; perplexity ${side.perplexity}, ${side.n_iter} iterations, learning rate auto`);
console.log('KL and trustworthiness (k=5) over seeds: median [min, max]; "in" = our median within scikit-learn\'s [min, max]');
const header = ['set', 'method', 'init', 'seeds', 'sklearn KL', 'ours KL', 'KL ratio', 'in', 'sklearn trust', 'ours trust'];
console.log(header.join(' | '));
for (const set of side.sets) {
  const groups = new Map<string, Run[]>();
  for (const r of set.runs) {
    const key = `${r.method}/${r.init}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, runs] of groups) {
    const [method, init] = key.split('/') as [Run['method'], Init];
    const ours: { kl: number; trust: number }[] = [];
    for (const r of runs) {
      const start = init === 'pca-jitter' ? (r.start as number[][]) : init;
      const ts = new TSNE({ nComponents: 2, perplexity: side.perplexity, maxIter: side.n_iter, init: start, learningRate: 'auto', method, randomState: r.seed });
      const emb = ts.fitTransform(set.X);
      ours.push({ kl: ts.klDivergence, trust: trustworthiness(set.X, emb, { nNeighbors: 5 }) });
    }
    const sk = stats(runs.map((r) => r.kl));
    const me = stats(ours.map((o) => o.kl));
    const inside = me.med >= sk.min && me.med <= sk.max;
    const agg = summary.get(key) ?? { inside: 0, ratios: [] };
    agg.inside += inside ? 1 : 0;
    agg.ratios.push(me.med / sk.med);
    summary.set(key, agg);
    console.log([
      `${set.kind} ${set.n}x${set.d}`, method, init, runs.length,
      fmt(runs.map((r) => r.kl), 4), fmt(ours.map((o) => o.kl), 4),
      (me.med / sk.med).toFixed(3), inside ? 'yes' : 'NO',
      fmt(runs.map((r) => r.trust), 4), fmt(ours.map((o) => o.trust), 4),
    ].join(' | '));
  }
}
console.log('\nsummary over sets: method/init | sets with our median KL inside scikit-learn\'s range | ratio of medians ours/scikit-learn: median [min, max]');
for (const [key, agg] of summary) console.log(`${key} | ${agg.inside}/${agg.ratios.length} | ${fmt(agg.ratios, 3)}`);
