/**
 * Weight-only int8 quantization for ONNX Runtime's com.microsoft MatMulNBits (bits 8): each output
 * row's K inputs in blocks of 128, every block with its own float32 scale and uint8 zero point
 * (asymmetric min/max, zero exactly representable), values q = round(w / scale) + zero in [0, 255];
 * the product uses (q − zero) · scale. Which weights are quantized: the linear layers of the blocks,
 * the input/output projections and the unembedding — never norms, biases, positions or the
 * embedding rows the runtime looks up.
 */

export const QUANT_BITS = 8;
export const QUANT_BLOCK = 128;

/** How a quantized weight's twin entries are named in the weight cache. */
export const quantNames = (name: string): { blob: string; scales: string; zeros: string } => ({
  blob: `${name}.q8`,
  scales: `${name}.q8_scales`,
  zeros: `${name}.q8_zeros`,
});

/**
 * The layout of a weight the graph multiplies by: linear layers are exported [in, out] (K × N),
 * the unembedding is [V, e] (N × K); undefined for weights that are not quantized.
 */
export function quantLayout(name: string, tiedEmbeddings: boolean): 'in-out' | 'out-in' | undefined {
  if (/^layers\.\d+\.(attn\.(q|k|v|o|qkv)|mlp\.(gate|up|down))\.weight$/.test(name)) return 'in-out';
  if (name === 'embed_proj.weight' || name === 'unembed_proj.weight') return 'in-out';
  if (name === 'lm_head.weight' || (tiedEmbeddings && name === 'embed.weight')) return 'out-in';
  return undefined;
}

export interface QuantizedWeight {
  /** [N, blocks, 128] uint8 (the last block of a row zero-padded). */
  blob: Uint8Array;
  /** [N · blocks] float32 */
  scales: Float32Array;
  /** [N · blocks] uint8 */
  zeros: Uint8Array;
  K: number;
  N: number;
}

/** Quantize `w` (K × N for 'in-out', N × K for 'out-in', row-major) into MatMulNBits blocks along K. */
export function quantizeInt8(w: Float32Array, dims: number[], layout: 'in-out' | 'out-in'): QuantizedWeight {
  const [K, N] = layout === 'in-out' ? [dims[0], dims[1]] : [dims[1], dims[0]];
  const at = layout === 'in-out' ? (n: number, k: number): number => w[k * N + n] : (n: number, k: number): number => w[n * K + k];
  const nb = Math.ceil(K / QUANT_BLOCK);
  const blob = new Uint8Array(N * nb * QUANT_BLOCK);
  const scales = new Float32Array(N * nb);
  const zeros = new Uint8Array(N * nb);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      const k0 = b * QUANT_BLOCK;
      const k1 = Math.min(K, k0 + QUANT_BLOCK);
      let lo = 0;
      let hi = 0;
      for (let k = k0; k < k1; k++) {
        const v = at(n, k);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      // the scale as float32 (what the kernel multiplies by), 1 for an all-zero block
      const scale = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
      const zero = Math.min(255, Math.max(0, Math.round(-lo / scale)));
      scales[n * nb + b] = scale;
      zeros[n * nb + b] = zero;
      const row = (n * nb + b) * QUANT_BLOCK;
      for (let k = k0; k < k1; k++) blob[row + k - k0] = Math.min(255, Math.max(0, Math.round(at(n, k) / scale) + zero));
      for (let k = k1; k < k0 + QUANT_BLOCK; k++) blob[row + k - k0] = zero; // padding dequantizes to 0
    }
  }
  return { blob, scales, zeros, K, N };
}

/** (q − zero) · scale of one element (for tests and error estimates). */
export function dequantized(q: QuantizedWeight, n: number, k: number): number {
  const nb = Math.ceil(q.K / QUANT_BLOCK);
  const b = Math.floor(k / QUANT_BLOCK);
  return (q.blob[(n * nb + b) * QUANT_BLOCK + (k % QUANT_BLOCK)] - q.zeros[n * nb + b]) * q.scales[n * nb + b];
}
