/**
 * Window means (PROTOCOL §1.6): split T steps into W consecutive groups of T/W and average each
 * layer over a group. `values` is row-major T × L; the result is row-major W × L.
 */
export function windowMeansFlat(values: ArrayLike<number>, steps: number, layers: number, windows: number): Float64Array {
  if (!Number.isInteger(windows) || windows < 1 || steps % windows !== 0) {
    throw new RangeError(`windows (${windows}) must divide the number of steps (${steps})`);
  }
  const size = steps / windows;
  const out = new Float64Array(windows * layers);
  for (let w = 0; w < windows; w++) {
    for (let l = 0; l < layers; l++) {
      let sum = 0;
      for (let t = w * size; t < (w + 1) * size; t++) sum += values[t * layers + l];
      out[w * layers + l] = sum / size;
    }
  }
  return out;
}
