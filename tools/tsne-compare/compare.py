"""scikit-learn's side of the t-SNE comparison (see compare.ts beside this file, which runs it).

Draws random data sets of several kinds and shapes from a seeded NumPy generator, runs
scikit-learn's TSNE on each over several random_state seeds, and writes one JSON document to stdout:
the data and, per method and init, scikit-learn's final KL divergence, n_iter_ and
trustworthiness(k=5) per seed.

Usage: /usr/bin/python3 compare.py '<json spec>'   (the spec is built by compare.ts)
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness


def make_data(kind, n, d, seed):
    rng = np.random.RandomState(seed)
    if kind == 'blobs':
        # A few Gaussian clusters of unequal size and spread.
        k = rng.randint(3, 7)
        centers = rng.normal(scale=4.0, size=(k, d))
        labels = rng.choice(k, size=n, p=rng.dirichlet(np.ones(k) * 2))
        scales = rng.uniform(0.5, 2.0, size=k)
        return centers[labels] + rng.normal(size=(n, d)) * scales[labels, None]
    if kind == 'uniform':
        return rng.uniform(size=(n, d))
    if kind == 'profiles':
        # Entropy-profile-like rows: a smooth curve over d "layers" (a falling sigmoid plus a bump),
        # with per-group shape parameters, per-row jitter and a little noise.
        t = np.linspace(0.0, 1.0, d)
        g = rng.randint(2, 5)
        mid = rng.uniform(0.3, 0.8, size=g)
        width = rng.uniform(0.03, 0.15, size=g)
        top = rng.uniform(3.0, 8.0, size=g)
        labels = rng.choice(g, size=n)
        m = mid[labels] + rng.normal(scale=0.03, size=n)
        w = width[labels] * rng.uniform(0.8, 1.25, size=n)
        a = top[labels] + rng.normal(scale=0.4, size=n)
        bump = rng.uniform(0.0, 1.0, size=n)
        X = a[:, None] / (1.0 + np.exp((t[None, :] - m[:, None]) / w[:, None]))
        X += bump[:, None] * np.exp(-((t[None, :] - 0.9) / 0.05) ** 2)
        return X + rng.normal(scale=0.05, size=(n, d))
    raise ValueError(f'unknown kind {kind}')


def pca_init(X, seed):
    """scikit-learn 1.2's own PCA initialisation (TSNE._fit): randomized PCA, float32, PC1 std 1e-4."""
    Y = PCA(n_components=2, svd_solver='randomized', random_state=seed).fit_transform(X).astype(np.float32)
    return Y / np.std(Y[:, 0]) * 1e-4


def jittered(Y0, seed):
    """Y0 with every coordinate moved by a relative 1e-6 (a few float32 ulps), seeded: the same
    start for both implementations, and a measure of how far t-SNE's outcome depends on noise."""
    rng = np.random.RandomState(1000 + seed)
    return (Y0.astype(np.float64) * (1.0 + 1e-6 * rng.standard_normal(Y0.shape))).astype(np.float32)


def main():
    spec = json.loads(sys.argv[1])
    out = {'sklearn': sklearn.__version__, 'numpy': np.__version__, 'sets': []}
    for s in spec['sets']:
        X = make_data(s['kind'], s['n'], s['d'], s['data_seed'])
        entry = {**s, 'X': X.tolist(), 'runs': []}
        Y0 = pca_init(X, 0)
        for method in spec['methods']:
            for init in spec['inits']:
                for seed in spec['seeds']:
                    t0 = time.perf_counter()
                    start = jittered(Y0, seed) if init == 'pca-jitter' else init
                    ts = TSNE(n_components=2, perplexity=spec['perplexity'], n_iter=spec['n_iter'], init=start,
                              learning_rate='auto', method=method, random_state=seed)
                    emb = ts.fit_transform(X)
                    entry['runs'].append({'method': method, 'init': init, 'seed': seed,
                                          'start': start.tolist() if init == 'pca-jitter' else None,
                                          'kl': float(ts.kl_divergence_), 'n_iter': int(ts.n_iter_),
                                          'trust': float(trustworthiness(X, emb, n_neighbors=5)),
                                          'seconds': time.perf_counter() - t0})
        out['sets'].append(entry)
        print(f"sklearn: {s['kind']} {s['n']}x{s['d']} done", file=sys.stderr, flush=True)
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
