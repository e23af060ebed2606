/** Barnes-Hut t-SNE against scikit-learn 1.2: one objective evaluation at a time, and the spread of outcomes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TSNE, toDense, trustworthiness } from '../../src/analysis/index.js';
import { gradientBh, jointProbabilitiesNn } from '../../src/analysis/manifold.js';
import { REPO_ROOT, loadSklearnSets } from './fixtures.js';

// Made by scikit-learn 1.2.1 (test/analysis/fixtures/tsne_sklearn.py, which says what each part is).
interface Fixture {
  perplexity: number;
  n_iter: number;
  X: number[][];
  gradient: { iteration: number; exaggeration: number; Y: number[][]; kl: number; grad: number[][] }[];
  runs: { seed: number; kl: number; trustworthiness_k5: number; start: number[][] | null }[];
  sets: { name: string; kl: number[]; trustworthiness_k5: number[] }[];
}
const fx = JSON.parse(readFileSync(`${REPO_ROOT}/test/analysis/fixtures/tsne-sklearn.json`, 'utf8')) as Fixture;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

test("Barnes-Hut P, KL and gradient equal scikit-learn's at the embeddings its optimiser visits", () => {
  const D = toDense(fx.X);
  const n = D.rows;
  const P = jointProbabilitiesNn(D, fx.perplexity);
  for (const g of fx.gradient) {
    const grad = new Float64Array(2 * n);
    const scaled = { ...P, data: P.data.map((v) => Math.fround(v * g.exaggeration)) };
    const kl = gradientBh(scaled, Float64Array.from(g.Y.flat()), n, 2, 0.5, grad, true);
    // scikit-learn sums in float32: its KL is good to ~2e-6 relative, its gradient to ~5e-7 of the
    // largest component here. Iteration 0 is the PCA start (std 1e-4) with point pairs closer than
    // 1e-6, where a duplicate tolerance in the tree would drop their repulsion (Δ ≈ 4e-4).
    const what = `iteration ${g.iteration}`;
    assert.ok(Math.abs(kl - g.kl) <= 1e-5 * g.kl, `${what}: KL ${kl}, scikit-learn ${g.kl}`);
    const ref = g.grad.flat();
    const scale = Math.max(...ref.map(Math.abs));
    const worst = Math.max(...ref.map((v, e) => Math.abs(grad[e] - v)));
    assert.ok(worst <= 1e-5 * scale, `${what}: gradient differs by ${worst} (largest component ${scale})`);
  }
});

test("Barnes-Hut outcomes fall within scikit-learn's own spread from the same starts", () => {
  // t-SNE is chaotic: runs from starts a few float32 ulps apart end in different local optima, so
  // the outcome is a distribution. Ours from the first starts must have its median KL and
  // trustworthiness inside the range of scikit-learn's over all its starts.
  const ours = fx.runs.filter((r) => r.start !== null).map((r) => {
    const ts = new TSNE({ perplexity: fx.perplexity, maxIter: fx.n_iter, init: r.start as number[][], method: 'barnes_hut', randomState: r.seed });
    const emb = ts.fitTransform(fx.X);
    return { kl: ts.klDivergence, trust: trustworthiness(fx.X, emb, { nNeighbors: 5 }) };
  });
  assert.ok(ours.length >= 5);
  const skKl = fx.runs.map((r) => r.kl);
  const skTrust = fx.runs.map((r) => r.trustworthiness_k5);
  const kl = median(ours.map((o) => o.kl));
  const trust = median(ours.map((o) => o.trust));
  assert.ok(kl >= Math.min(...skKl) && kl <= Math.max(...skKl), `median KL ${kl} outside scikit-learn's [${Math.min(...skKl)}, ${Math.max(...skKl)}]`);
  assert.ok(trust >= Math.min(...skTrust) && trust <= Math.max(...skTrust), `median trustworthiness ${trust} outside scikit-learn's [${Math.min(...skTrust)}, ${Math.max(...skTrust)}]`);
});

for (const s of loadSklearnSets()) {
  test(`${s.name}: t-SNE (Barnes-Hut) is no worse than scikit-learn's worst of 20 starts`, () => {
    // The set's own golden `tsne` entry is one sample (init="pca", random_state=42); scikit-learn
    // itself lands outside ±10 % of it from most starts 1e-6 apart (17 of 20 on set100-2). So one
    // run of ours is held to scikit-learn's range over 20 such starts: KL at most its largest and
    // trustworthiness at least its smallest. (A better optimum is no fault; a wrong objective is
    // caught above, to 1e-5.)
    const ref = fx.sets.find((r) => r.name === s.name);
    assert.ok(ref, `no scikit-learn spread for ${s.name} in tsne-sklearn.json; rerun tsne_sklearn.py`);
    const ts = new TSNE({ nComponents: 2, perplexity: s.tsne.perplexity, maxIter: s.tsne.n_iter, init: 'pca', learningRate: 'auto', randomState: 42 });
    const emb = ts.fitTransform(s.X);
    assert.equal(emb.length, s.X.length);
    const worstKl = Math.max(...ref.kl);
    const worstTrust = Math.min(...ref.trustworthiness_k5);
    assert.ok(ts.klDivergence <= worstKl, `KL ${ts.klDivergence} above scikit-learn's worst ${worstKl}`);
    const trust = trustworthiness(s.X, emb, { nNeighbors: 5 });
    assert.ok(trust >= worstTrust, `trustworthiness ${trust} below scikit-learn's worst ${worstTrust}`);
  });
}
