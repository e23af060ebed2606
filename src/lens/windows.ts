/** Window means of a profile (PROTOCOL §1.6) and the classifier features made from them. */
import { windowMeansFlat } from '../util/windows.js';

/**
 * Window means (PROTOCOL §1.6) of a steps × layers profile → W × L. W = 1 is the mean over
 * generated tokens.
 */
export function windowMeans(matrix: number[][], windows: number): number[][] {
  const T = matrix.length;
  const L = T > 0 ? matrix[0].length : 0;
  const flat = windowMeansFlat(matrix.flat(), T, L, windows);
  return Array.from({ length: windows }, (_, w) => Array.from(flat.subarray(w * L, (w + 1) * L)));
}

/** Features for a classifier: the W × L window matrix flattened row-major. */
export function features(matrix: number[][], windows: number): number[] {
  return windowMeans(matrix, windows).flat();
}
