/**
 * Window means (PROTOCOL §1.6): split the T steps into W consecutive groups of T/W and average each
 * layer over a group → W × L. W = 1 is the mean over generated tokens.
 */
export function windowMeans(matrix: number[][], windows: number): number[][] {
  const T = matrix.length;
  if (windows < 1 || T % windows !== 0) throw new Error(`windows (${windows}) must divide the number of steps (${T})`);
  const size = T / windows;
  const L = T > 0 ? matrix[0].length : 0;
  const out: number[][] = [];
  for (let w = 0; w < windows; w++) {
    const row = new Array<number>(L).fill(0);
    for (let t = w * size; t < (w + 1) * size; t++) for (let l = 0; l < L; l++) row[l] += matrix[t][l];
    out.push(row.map((v) => v / size));
  }
  return out;
}

/** Features for a classifier: the W × L window matrix flattened row-major. */
export function features(matrix: number[][], windows: number): number[] {
  return windowMeans(matrix, windows).flat();
}
