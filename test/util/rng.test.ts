import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

test('same seed, same stream; different seeds, different streams', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = Array.from({ length: 100 }, () => a.next());
  const xb = Array.from({ length: 100 }, () => b.next());
  const xc = Array.from({ length: 100 }, () => c.next());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

test('next() is uniform-looking on [0, 1) and int(n) stays in range', () => {
  const r = new Rng(7);
  const n = 20000;
  let sum = 0;
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < n; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    sum += x;
    buckets[Math.floor(x * 10)]! += 1;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  for (const b of buckets) assert.ok(Math.abs(b - n / 10) < 0.1 * (n / 10), `bucket ${b}`);
  for (let i = 0; i < 1000; i++) {
    const k = r.int(3);
    assert.ok(k === 0 || k === 1 || k === 2);
    const j = r.range(5, 8);
    assert.ok(j >= 5 && j <= 8 && Number.isInteger(j));
  }
  assert.throws(() => r.int(0), RangeError);
  assert.throws(() => new Rng(1.5), RangeError);
});

test('shuffle returns a permutation and leaves its input alone', () => {
  const r = new Rng(3);
  const items = Array.from({ length: 50 }, (_, i) => i);
  const s = r.shuffle(items);
  assert.deepEqual(items, Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual([...s].sort((x, y) => x - y), items);
  assert.notDeepEqual(s, items);
});

test('weighted() follows the weights', () => {
  const r = new Rng(11);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30000; i++) counts[r.weighted([1, 0, 3])]! += 1;
  assert.equal(counts[1], 0);
  assert.ok(Math.abs(counts[2]! / 30000 - 0.75) < 0.02, `share ${counts[2]! / 30000}`);
});
