import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsWriter, type ResultRowInput } from '../../src/store/index.js';
import { classifyFormats, evaluateByGroup, evaluateProfiles } from '../../src/analysis/index.js';
import { REPO_ROOT, loadSklearnSets } from '../analysis/fixtures.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const sets = loadSklearnSets();

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const f32 = (X: number[][]): number[][] => X.map((r) => Array.from(Float32Array.from(r)));

test('evaluate: a TinyStories-like dataset through the real CLI (text, --json, --by, --csv)', async () => {
  const s = sets[0]; // string labels continuation / counting / semantic
  const dir = await mkdtemp(join(tmpdir(), 'entropylens-cli-'));
  try {
    const w = await ResultsWriter.open(dir, { model: 'tiny', experiment: 'tinystories', labelColumns: { prompt_type: 'string', subject: 'string' }, codeVersion: 'test' });
    const variants = ['base', 'rev', 'scramble', 'scramble_rev'];
    const rows: ResultRowInput[] = s.X.map((x, i) => ({
      sample_id: `story${i}`,
      metric: 'shannon',
      labels: { prompt_type: `${String(s.y[i])}_prompt_${(i % 2) + 1}_${variants[i % 4]}`, subject: `g${i % 3}` },
      prompt: `p${i}`,
      completion: `c${i}`,
      n_steps: 1,
      n_layers: x.length,
      values: x,
    }));
    // Two shards, in order, plus another metric that must be ignored.
    await w.appendShard(rows.slice(0, 100));
    await w.appendShard([...rows.slice(100), ...rows.slice(0, 5).map((r) => ({ ...r, metric: 'renyi:0.5' }))]);

    const X = f32(s.X);
    const want = evaluateProfiles(X, s.y, { k: 29, weights: 'uniform', folds: 10, seed: 42 });
    const j = run(['evaluate', dir, '--label', 'task', '--json']);
    assert.equal(j.status, 0, j.stderr);
    const got = JSON.parse(j.stdout) as { overall: typeof want };
    assert.deepEqual(got.overall, JSON.parse(JSON.stringify(want)));
    // Stored as float32, these profiles still give scikit-learn's numbers for the float64 originals.
    assert.deepEqual(got.overall.modelAucByFold, s.protocol_uniform_k29.model_roc_auc_by_fold);
    assert.deepEqual(got.overall.baselineAucByFold, s.protocol_uniform_k29.baseline_roc_auc_by_fold);

    const t = run(['evaluate', dir, '--label', 'task']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /model\s+0\.9254/);
    assert.match(t.stdout, /baseline\s+0\.5051/);
    assert.match(t.stdout, /significant\s+yes/);
    const nCont = s.y.filter((v) => v === 'continuation').length;
    assert.ok(t.stdout.includes(`continuation ${nCont} (${((100 * nCont) / s.y.length).toFixed(1)}%)`), 'label balance');
    assert.equal(t.stdout.split('\n').filter((l) => /^\d+\s+0\.\d{4}\s+0\.\d{4}$/.test(l)).length, 10, 'ten fold lines');

    const csvPath = join(dir, 'by.csv');
    const g = run(['evaluate', dir, '--label', 'task', '--k', '25', '--weights', 'distance', '--by', 'subject', '--csv', csvPath, '--json']);
    assert.equal(g.status, 0, g.stderr);
    const groups = evaluateByGroup(X, s.y, s.X.map((_, i) => `g${i % 3}`), { k: 25, weights: 'distance', folds: 10, seed: 42 });
    assert.deepEqual(JSON.parse(g.stdout).byGroup, JSON.parse(JSON.stringify(groups)));
    const csv = (await readFile(csvPath, 'utf8')).trim().split('\n');
    assert.equal(csv[0], 'subject,sample_count,roc_auc,baseline_roc_auc,improvement,p_value,significant,f1_score,folds_scored');
    assert.equal(csv.length, 4);

    const bad = run(['evaluate', dir, '--metric', 'nope']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^entropylens: no rows with metric 'nope'; the results have: shannon, renyi:0\.5\n$/);
    const badLabel = run(['evaluate', dir, '--label', 'colour']);
    assert.match(badLabel.stderr, /no label column 'colour'/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('evaluate: binary correct labels (booleans) match the fixture', async () => {
  const s = sets[1]; // labels 0/1
  const dir = await mkdtemp(join(tmpdir(), 'entropylens-cli-'));
  try {
    const w = await ResultsWriter.open(dir, { model: 'tiny', experiment: 'mmlu', labelColumns: { correct: 'boolean' } });
    await w.appendShard(s.X.map((x, i) => ({ sample_id: `q${i}`, metric: 'shannon', labels: { correct: s.y[i] === 1 }, n_steps: 1, n_layers: x.length, values: x })));
    const j = run(['evaluate', dir, '--json', '--k', '25', '--weights', 'distance']);
    assert.equal(j.status, 0, j.stderr);
    const got = JSON.parse(j.stdout).overall;
    const want = evaluateProfiles(f32(s.X), s.y.map((v) => v === 1), { k: 25, weights: 'distance' });
    assert.deepEqual(got, JSON.parse(JSON.stringify(want)));
    assert.deepEqual(got.classes, [false, true]);
    const p = s.protocol_distance_k25;
    got.modelAucByFold.forEach((v: number, i: number) => assert.ok(Math.abs(v - p.model_roc_auc_by_fold[i]) <= 1e-12, `fold ${i}`));
    assert.ok(Math.abs(got.positiveRate - s.y.filter((v) => v === 1).length / s.y.length) < 1e-15);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('classify: Rényi metrics per alpha through the real CLI', async () => {
  const s = sets[2]; // formats chat / poem / science, 546 prompts
  const dir = await mkdtemp(join(tmpdir(), 'entropylens-cli-'));
  try {
    const w = await ResultsWriter.open(dir, { model: 'gemma-like', experiment: 'formats', labelColumns: { format: 'string', topic: 'string' } });
    const scale: Record<string, number> = { 'renyi:0.5': 1.5, shannon: 1, 'renyi:5': 0.5 };
    const rows: ResultRowInput[] = [];
    s.X.forEach((x, i) => {
      for (const metric of Object.keys(scale)) {
        rows.push({ sample_id: `p${i}`, metric, labels: { format: String(s.y[i]), topic: `t${i % 182}` }, n_steps: 8, n_layers: x.length / 8, values: x.map((v) => v * scale[metric]) });
      }
    });
    await w.appendShard(rows);
    const j = run(['classify', dir, '--alpha', '0.5', '1', '--k', '5', '7', '--json']);
    assert.equal(j.status, 0, j.stderr);
    const got = JSON.parse(j.stdout) as { runs: { metric: string; result: ReturnType<typeof classifyFormats> }[] };
    assert.deepEqual(got.runs.map((r) => r.metric), ['renyi:0.5', 'shannon']);
    const want = classifyFormats(f32(s.X), s.y, { ks: [5, 7] });
    assert.deepEqual(got.runs[1].result, JSON.parse(JSON.stringify(want)));
    // Scaling every feature by the same factor changes no neighbour: same scores for α = 0.5.
    assert.deepEqual(got.runs[0].result.cv, got.runs[1].result.cv);
    // The split is scikit-learn's.
    assert.deepEqual(got.runs[1].result.split.test, s.train_test_split.test);

    const t = run(['classify', dir, '--alpha', '1', '--k', '5']);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /ALPHA = 1 \(metric shannon\)/);
    assert.match(t.stdout, /Prepared 546 samples with 208 features each\./);
    assert.match(t.stdout, /k = 5:\n  Mean accuracy: \d\.\d{3} ± \d\.\d{3}\n  Individual fold scores:( \d\.\d{3}){10}/);
    assert.match(t.stdout, /k = 5: Test accuracy = \d\.\d{3}/);
    assert.match(t.stdout, /\s+chat\s+0\.\d{3}\s+0\.\d{3}\s+0\.\d{3}\s+36\n/);

    const missing = run(['classify', dir, '--alpha', '2']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no rows with metric 'renyi:2'/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
