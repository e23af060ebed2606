/** Profiles on normalised depth: models of different depths compared point for point. */

/** Linear interpolation of a per-layer profile (at depths (l+1)/L) onto n points of (0, 1]. */
export function interpolateDepth(v: ArrayLike<number>, n: number): number[] {
  const L = v.length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const depth = (i + 1) / n; // (0, 1]
    const pos = depth * L - 1; // fractional layer index
    if (pos <= 0) out.push(v[0]);
    else if (pos >= L - 1) out.push(v[L - 1]);
    else {
      const lo = Math.floor(pos);
      const f = pos - lo;
      out.push(v[lo] * (1 - f) + v[lo + 1] * f);
    }
  }
  return out;
}
