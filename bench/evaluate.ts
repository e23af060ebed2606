/**
 * Times `evaluateProfiles` on an MMLU-sized run: 14,000 profiles × 26 layers, binary labels,
 * kNN k = 29, 10 folds. Prints machine info and seconds. Usage: node dist/bench/evaluate.js [n] [layers] [k]
 */
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RandomState, evaluateProfiles, evaluateByGroup } from '../src/analysis/index.js';
import { ResultsWriter, labelValues, profilesOf, readResults } from '../src/store/index.js';

const n = Number(process.argv[2] ?? 14000);
const layers = Number(process.argv[3] ?? 26);
const k = Number(process.argv[4] ?? 29);

// Synthetic entropy profiles: a per-sample smooth curve over depth whose shape depends weakly on
// the label, plus noise — the same scale and correlation structure as real profiles.
const rs = new RandomState(0);
const X: Float64Array[] = [];
const y: boolean[] = [];
const subject: string[] = [];
for (let i = 0; i < n; i++) {
  const correct = rs.randomSample() < 0.45;
  const level = 3 + rs.standardNormal() * 0.8;
  const bend = (correct ? 0.6 : 0.2) + rs.standardNormal() * 0.4;
  const row = new Float64Array(layers);
  for (let l = 0; l < layers; l++) {
    const depth = (l + 1) / layers;
    row[l] = level * (1 - bend * depth * depth) + rs.standardNormal() * 0.3;
  }
  X.push(row);
  y.push(correct);
  subject.push(`subject_${rs.randint(57)}`);
}

console.log(`node ${process.version} on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${os.platform()} ${os.arch()}`);
console.log(`evaluate: ${n} profiles × ${layers} features, kNN k=${k}, 10 folds`);
let t0 = performance.now();
const r = evaluateProfiles(X, y, { k, folds: 10, seed: 42 });
let s = (performance.now() - t0) / 1000;
console.log(`evaluateProfiles (uniform): ${s.toFixed(2)} s   model ROC-AUC ${r.modelRocAuc.toFixed(4)}, baseline ${r.baselineRocAuc.toFixed(4)}`);
t0 = performance.now();
const rd = evaluateProfiles(X, y, { k: 25, weights: 'distance', folds: 10, seed: 42 });
s = (performance.now() - t0) / 1000;
console.log(`evaluateProfiles (k=25 distance): ${s.toFixed(2)} s   model ROC-AUC ${rd.modelRocAuc.toFixed(4)}`);
t0 = performance.now();
const g = evaluateByGroup(X, y, subject, { k: 25, weights: 'distance', folds: 10, seed: 42 });
s = (performance.now() - t0) / 1000;
console.log(`evaluateByGroup (57 subjects): ${s.toFixed(2)} s   ${g.length} groups`);

// The whole `entropylens evaluate` path: store 3 metrics per sample in 14 shards, read one back, evaluate.
const dir = mkdtempSync(join(os.tmpdir(), 'entropylens-bench-'));
try {
  t0 = performance.now();
  const w = await ResultsWriter.open(dir, { model: 'bench', experiment: 'mmlu', labelColumns: { correct: 'boolean', subject: 'string' } });
  for (let start = 0; start < n; start += 1000) {
    const rows = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      for (const metric of ['shannon', 'renyi:0.5', 'renyi:5']) {
        rows.push({ sample_id: `q${i}`, metric, labels: { correct: y[i], subject: subject[i] }, prompt: 'Question …', completion: ' A', n_steps: 1, n_layers: layers, values: X[i] });
      }
    }
    await w.appendShard(rows);
  }
  const writeS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const data = await readResults(dir, { metric: 'shannon' });
  const prof = profilesOf(data.rows, 'shannon');
  const readS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const r2 = evaluateProfiles(prof.X, labelValues(prof.rows, 'correct') as boolean[], { k, folds: 10, seed: 42 });
  const evalS = (performance.now() - t0) / 1000;
  console.log(`store: write ${3 * n} rows in ${Math.ceil(n / 1000)} shards ${writeS.toFixed(2)} s; read back one metric ${readS.toFixed(2)} s; evaluate ${evalS.toFixed(2)} s (ROC-AUC ${r2.modelRocAuc.toFixed(4)})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
