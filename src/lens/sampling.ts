/**
 * Temperature sampling with a seeded generator: one stream per prompt, derived from (seed, prompt
 * index), so the tokens of a prompt do not depend on the batch it runs in.
 */
import { mulberry32, type Rng } from '../util/rng.js';

export class Sampler {
  private readonly rng: Rng;

  constructor(seed: number, stream: number) {
    // mix the two numbers into one 32-bit seed (murmur3 finaliser)
    let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    this.rng = mulberry32((h ^ (h >>> 16)) >>> 0);
  }

  next(): number {
    return this.rng.next();
  }
  /** Draw an index from softmax(logits / temperature), computed in float64. */
  sample(logits: Float32Array, temperature: number): number {
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
    const w = new Float64Array(logits.length);
    let sum = 0;
    for (let i = 0; i < logits.length; i++) {
      w[i] = Math.exp((logits[i] - max) / temperature);
      sum += w[i];
    }
    const u = this.next() * sum;
    let acc = 0;
    for (let i = 0; i < w.length; i++) {
      acc += w[i];
      if (u < acc) return i;
    }
    // rounding left u just above the total: the last token with weight
    for (let i = w.length - 1; i >= 0; i--) if (w[i] > 0) return i;
    return 0;
  }
}

/** Index of the largest value; the first one on ties, as torch.argmax. */
export function argmaxOf(row: Float32Array): number {
  let best = 0;
  let bv = row[0];
  for (let i = 1; i < row.length; i++) {
    if (row[i] > bv) {
      bv = row[i];
      best = i;
    }
  }
  return best;
}
