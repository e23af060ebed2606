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
  /**
   * Draw an index from softmax(logits / temperature) by the Gumbel-max trick: the argmax of
   * logits / T + G_i with G_i = −log(−log U_i), one uniform U_i per vocabulary entry from this
   * prompt's stream (the same count every step, so the stream never depends on the logits).
   * Unlike inverse-CDF sampling — where float noise in any logit moves every later boundary of the
   * cumulative sum — a draw changes only if noise reorders the two best perturbed scores, so a
   * prompt samples the same tokens whatever batch it runs in (batch composition moves logits by
   * float32 rounding only).
   */
  sample(logits: Float32Array, temperature: number): number {
    let best = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < logits.length; i++) {
      // 1 − U is in (0, 1]: the logarithms stay finite (−log(−log 1) = +∞ only at U = 0, never drawn).
      const u = 1 - this.next();
      const score = logits[i] / temperature - Math.log(-Math.log(u === 1 ? 1 - 2 ** -53 : u));
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
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
