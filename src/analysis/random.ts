/**
 * NumPy's legacy `RandomState` (MT19937), ported for bit-identical streams.
 *
 * scikit-learn turns every integer `random_state` into `np.random.RandomState(seed)`, so fold
 * shuffles, stratified splits and the stratified dummy are only reproducible with this exact
 * generator and the exact way NumPy's legacy methods consume it.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** The Mersenne Twister with NumPy's legacy integer seeding (Matsumoto & Nishimura's init_genrand). */
export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private mti = N;

  constructor(seed: number) {
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      this.mt[i] = s;
      s = (Math.imul(1812433253, s ^ (s >>> 30)) + i + 1) >>> 0;
    }
    this.mti = N;
  }

  private twist(): void {
    const mt = this.mt;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.mti = 0;
  }

  /** A uniform 32-bit unsigned integer (genrand_int32). */
  nextUint32(): number {
    if (this.mti >= N) this.twist();
    let y = this.mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits, built from two draws as NumPy does. */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }
}

type Shufflable = { length: number; [i: number]: unknown };

/** A seed drawn from the OS, for `randomState: undefined` (NumPy would use its global state). */
function freshSeed(): number {
  const buf = new Uint32Array(1);
  globalThis.crypto.getRandomValues(buf);
  return buf[0];
}

/** Accepts what scikit-learn's `check_random_state` accepts: nothing, a seed, or a generator. */
export type RandomStateLike = number | RandomState | undefined | null;

export function checkRandomState(seed: RandomStateLike): RandomState {
  if (seed instanceof RandomState) return seed;
  return new RandomState(seed ?? undefined);
}

export class RandomState {
  private readonly bitgen: MT19937;
  private hasGauss = false;
  private gauss = 0;

  constructor(seed?: number) {
    const s = seed ?? freshSeed();
    if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) {
      throw new RangeError(`random state must be an integer between 0 and 2**32 - 1, got ${s}`);
    }
    this.bitgen = new MT19937(s);
  }

  /** `random_sample()`: a double in [0, 1). */
  randomSample(): number {
    return this.bitgen.nextDouble();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    return this.bitgen.nextUint32();
  }

  /** An integer in [0, max] by masked rejection sampling (NumPy's `random_interval`, max < 2**32). */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('interval: max must fit in 32 bits');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do {
      value = (this.bitgen.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  /** `randint(low, high)`: an integer in [low, high). */
  randint(low: number, high?: number): number {
    let lo = low;
    let hi = high;
    if (hi === undefined) {
      hi = lo;
      lo = 0;
    }
    if (hi <= lo) throw new RangeError('randint: low >= high');
    return lo + this.interval(hi - lo - 1);
  }

  /** In-place Fisher-Yates shuffle, i from n-1 down to 1, as the legacy `shuffle` of a 1-d array. */
  shuffle<T extends Shufflable>(x: T): T {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const tmp = x[i];
      x[i] = x[j];
      x[j] = tmp;
    }
    return x;
  }

  /** `permutation(n)` (a shuffled arange) or `permutation(array)` (a shuffled copy). */
  permutation(x: number): number[];
  permutation<T>(x: readonly T[]): T[];
  permutation<T>(x: number | readonly T[]): (number | T)[] {
    const arr: (number | T)[] = typeof x === 'number' ? Array.from({ length: x }, (_, i) => i) : x.slice();
    return this.shuffle(arr);
  }

  /** `choice(population, size, replace=False)` without weights: the first `size` of a permutation. */
  choiceWithoutReplacement<T>(population: readonly T[], size: number): T[] {
    if (size > population.length) throw new RangeError('choice: cannot take a larger sample than population');
    const idx = this.permutation(population.length).slice(0, size);
    return idx.map((i) => population[i]);
  }

  /** Standard normal by the polar Box-Muller method, caching the second value (legacy `gauss`). */
  standardNormal(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      const g = this.gauss;
      this.gauss = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2.0 * this.bitgen.nextDouble() - 1.0;
      x2 = 2.0 * this.bitgen.nextDouble() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    const f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  normal(loc = 0, scale = 1): number {
    return loc + scale * this.standardNormal();
  }

  /** `binomial(n, p)`: inversion when min(p, 1-p)·n ≤ 30, else BTPE, as the legacy generator. */
  binomial(n: number, p: number): number {
    if (!(p >= 0 && p <= 1) || Number.isNaN(p)) throw new RangeError(`binomial: p must be in [0, 1], got ${p}`);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial: n must be a non-negative integer, got ${n}`);
    return this.binomialCore(n, p);
  }

  private binomialCore(n: number, p: number): number {
    if (n === 0 || p === 0) return 0;
    if (p <= 0.5) {
      return p * n <= 30.0 ? this.binomialInversion(n, p) : this.binomialBtpe(n, p);
    }
    const q = 1.0 - p;
    return q * n <= 30.0 ? n - this.binomialInversion(n, q) : n - this.binomialBtpe(n, q);
  }

  private binomialInversion(n: number, p: number): number {
    const q = 1.0 - p;
    const qn = Math.exp(n * Math.log(q));
    const np = n * p;
    const bound = Math.trunc(Math.min(n, np + 10.0 * Math.sqrt(np * q + 1)));
    let x = 0;
    let px = qn;
    let u = this.bitgen.nextDouble();
    while (u > px) {
      x++;
      if (x > bound) {
        x = 0;
        px = qn;
        u = this.bitgen.nextDouble();
      } else {
        u -= px;
        px = ((n - x + 1) * p * px) / (x * q);
      }
    }
    return x;
  }

  /** Kachitvichyanukul & Schmeiser's BTPE, with NumPy's constants and acceptance steps. */
  private binomialBtpe(n: number, p: number): number {
    const r = Math.min(p, 1.0 - p);
    const q = 1.0 - r;
    const fm = n * r + r;
    const m = Math.floor(fm);
    const p1 = Math.floor(2.195 * Math.sqrt(n * r * q) - 4.6 * q) + 0.5;
    const xm = m + 0.5;
    const xl = xm - p1;
    const xr = xm + p1;
    const c = 0.134 + 20.5 / (15.3 + m);
    let a = (fm - xl) / (fm - xl * r);
    const laml = a * (1.0 + a / 2.0);
    a = (xr - fm) / (xr * q);
    const lamr = a * (1.0 + a / 2.0);
    const p2 = p1 * (1.0 + 2.0 * c);
    const p3 = p2 + c / laml;
    const p4 = p3 + c / lamr;
    const nrq = n * r * q;

    for (;;) {
      const u = this.bitgen.nextDouble() * p4;
      let v = this.bitgen.nextDouble();
      let y: number;
      if (u <= p1) {
        // Triangular region: always accepted.
        y = Math.floor(xm - p1 * v + u);
        return p > 0.5 ? n - y : y;
      }
      if (u <= p2) {
        const x = xl + (u - p1) / c;
        v = v * c + 1.0 - Math.abs(m - x + 0.5) / p1;
        if (v > 1.0) continue;
        y = Math.floor(x);
      } else if (u <= p3) {
        y = Math.floor(xl + Math.log(v) / laml);
        if (y < 0 || v === 0.0) continue;
        v = v * (u - p2) * laml;
      } else {
        y = Math.floor(xr - Math.log(v) / lamr);
        if (y > n || v === 0.0) continue;
        v = v * (u - p3) * lamr;
      }

      const k = Math.abs(y - m);
      if (!(k > 20 && k < nrq / 2.0 - 1)) {
        // Explicit evaluation of f(y)/f(m) by recursion.
        const s = r / q;
        const aa = s * (n + 1);
        let f = 1.0;
        if (m < y) {
          for (let i = m + 1; i <= y; i++) f *= aa / i - s;
        } else if (m > y) {
          for (let i = y + 1; i <= m; i++) f /= aa / i - s;
        }
        if (v > f) continue;
        return p > 0.5 ? n - y : y;
      }

      // Squeeze using upper and lower bounds on log(f(y)), then the Stirling-based final test.
      const rho = (k / nrq) * ((k * (k / 3.0 + 0.625) + 0.16666666666666666) / nrq + 0.5);
      const t = (-k * k) / (2 * nrq);
      const A = Math.log(v);
      if (A < t - rho) return p > 0.5 ? n - y : y;
      if (A > t + rho) continue;
      const x1 = y + 1;
      const f1 = m + 1;
      const z = n + 1 - m;
      const w = n - y + 1;
      const x2 = x1 * x1;
      const f2 = f1 * f1;
      const z2 = z * z;
      const w2 = w * w;
      const stirling = (u2: number, u1: number): number =>
        (13680 - (462 - (132 - (99 - 140 / u2) / u2) / u2) / u2) / u1 / 166320;
      const bound =
        xm * Math.log(f1 / x1) +
        (n - m + 0.5) * Math.log(z / w) +
        (y - m) * Math.log((w * r) / (x1 * q)) +
        stirling(f2, f1) +
        stirling(z2, z) +
        stirling(x2, x1) +
        stirling(w2, w);
      if (A > bound) continue;
      return p > 0.5 ? n - y : y;
    }
  }

  /**
   * `multinomial(n, pvals, size)`: each row draws one binomial per category on the probability
   * left over, stopping when nothing is left; the last category takes the remainder.
   */
  multinomial(n: number, pvals: readonly number[], size: number): number[][] {
    const d = pvals.length;
    let head = 0;
    for (let j = 0; j < d - 1; j++) head += pvals[j];
    if (head > 1.0 + 1e-12) throw new RangeError('multinomial: sum(pvals[:-1]) > 1.0');
    const out: number[][] = [];
    for (let i = 0; i < size; i++) {
      const row = new Array<number>(d).fill(0);
      let remainingP = 1.0;
      let dn = n;
      for (let j = 0; j < d - 1; j++) {
        row[j] = this.binomialCore(dn, pvals[j] / remainingP);
        dn -= row[j];
        if (dn <= 0) break;
        remainingP -= pvals[j];
      }
      if (dn > 0) row[d - 1] = dn;
      out.push(row);
    }
    return out;
  }
}
