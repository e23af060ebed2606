/** Parity checkpoints rewritten in 16 bits (or as float32 holding exactly those 16-bit values), for the tests of 16-bit weights. */
import fs from 'node:fs';
import path from 'node:path';
import { openCheckpoint } from '../../src/models/checkpoint.js';
import { bf16ToFloat32, f16ToFloat32 } from '../../src/models/safetensors.js';
import { f32ToBf16Bits, f32ToF16Bits, writeSafetensors, type TensorToWrite } from '../../src/models/safetensors-write.js';

/**
 * The checkpoint in `src` rewritten into the new folder `dir` as one safetensors file: every tensor
 * rounded to `half` (bf16 or f16) and stored so (`as` 'half'), or stored as float32 holding exactly
 * the rounded values ('F32'); the JSON files (config, tokenizer) copied.
 */
export function rewriteAsHalf(src: string, dir: string, half: 'BF16' | 'F16', as: 'half' | 'F32'): string {
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync(src)) if (f.endsWith('.json') && !f.endsWith('.index.json')) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  const ckpt = openCheckpoint(src);
  const tensors: Record<string, TensorToWrite> = {};
  for (const [t, info] of ckpt.tensors) {
    const values = ckpt.readFloat32(t);
    const bits = half === 'BF16' ? f32ToBf16Bits(values) : f32ToF16Bits(values);
    tensors[t] = as === 'half' ? { dtype: half, shape: info.shape, data: bits } : { dtype: 'F32', shape: info.shape, data: half === 'BF16' ? bf16ToFloat32(bits) : f16ToFloat32(bits) };
  }
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return dir;
}
