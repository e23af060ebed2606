/**
 * Temperature sampling with a seeded generator: one stream per prompt, derived from (seed, prompt
 * index), so the tokens of a prompt do not depend on the batch it runs in.
 */
export class Sampler {
  private state: number;

  constructor(seed: number, stream: number) {
    // splitmix32-style mixing of the two numbers into a 32-bit state
    let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    this.state = (h ^ (h >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
