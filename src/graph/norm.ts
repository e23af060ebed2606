/** The norms of the decoder graph: LayerNorm or RMSNorm over the last axis with an exported weight (and bias). */
import { normHasBias, type NormSpec } from '../models/types.js';
import type { GraphBuilder } from './builder.js';

/**
 * `prefix.weight` (and `prefix.bias` for a LayerNorm that has one; zeros otherwise) applied to x
 * over its last axis; node names under `name` (`name/LayerNorm`, `name/ReduceMean`, …).
 */
export function applyNorm(g: GraphBuilder, x: string, prefix: string, spec: NormSpec, name: string): string {
  const { kind, eps } = spec;
  const w = g.weight(`${prefix}.weight`);
  if (kind === 'layer') {
    const bias = normHasBias(spec) ? g.weight(`${prefix}.bias`) : g.constF(new Float32Array(g.weightDims(`${prefix}.weight`).reduce((a, b) => a * b, 1)), g.weightDims(`${prefix}.weight`));
    return g.op1('LayerNormalization', [x, w, bias], `${name}/LayerNorm`, { axis: -1, epsilon: { float: eps } });
  }
  // RMSNorm: x / sqrt(mean(x²) + eps) * w, in float32 as Hugging Face computes it
  const sq = g.mul(x, x, `${name}/Pow`);
  const ms = g.op1('ReduceMean', [sq, g.constI([-1])], `${name}/ReduceMean`, { keepdims: 1 });
  const rs = g.op1('Sqrt', [g.add(ms, g.scalarF(eps), `${name}/AddEps`)], `${name}/Sqrt`);
  const normed = g.mul(x, g.op1('Reciprocal', [rs], `${name}/Reciprocal`), `${name}/MulInv`);
  return g.mul(normed, w, `${name}/MulWeight`);
}
