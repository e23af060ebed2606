/**
 * Times `evaluateProfiles` on an MMLU-sized run: 14,000 profiles × 26 layers, binary labels,
 * kNN k = 29, 10 folds. Prints machine info and seconds. Usage: node dist/bench/evaluate.js [n] [layers] [k]
 */
import os from 'node:os';
import { RandomState, evaluateProfiles, evaluateByGroup } from '../src/analysis/index.js';

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
