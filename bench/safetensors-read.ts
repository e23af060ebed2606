/**
 * Loader throughput: writes a random GPT-2-small-shaped checkpoint (f32 ≈ 500 MB, then bf16) to a
 * temp folder, reads it tensor by tensor through openCheckpoint, and compares with a plain
 * sequential read of the same file. Cold numbers evict only this file from the page cache
 * (GNU dd iflag=nocache), so other processes are unaffected. Usage: node dist/bench/safetensors-read.js
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCheckpoint } from '../src/models/checkpoint.js';
import { writeSafetensors, type TensorToWrite } from '../src/models/safetensors-write.js';
import type { SafetensorsDtype } from '../src/models/safetensors.js';

function gpt2Small(dtype: SafetensorsDtype): Record<string, TensorToWrite> {
  const d = 768;
  const shapes: [string, number[]][] = [
    ['transformer.wte.weight', [50257, d]],
    ['transformer.wpe.weight', [1024, d]],
  ];
  for (let i = 0; i < 12; i++) {
    const p = `transformer.h.${i}.`;
    shapes.push(
      [p + 'ln_1.weight', [d]], [p + 'ln_1.bias', [d]],
      [p + 'attn.c_attn.weight', [d, 3 * d]], [p + 'attn.c_attn.bias', [3 * d]],
      [p + 'attn.c_proj.weight', [d, d]], [p + 'attn.c_proj.bias', [d]],
      [p + 'ln_2.weight', [d]], [p + 'ln_2.bias', [d]],
      [p + 'mlp.c_fc.weight', [d, 4 * d]], [p + 'mlp.c_fc.bias', [4 * d]],
      [p + 'mlp.c_proj.weight', [4 * d, d]], [p + 'mlp.c_proj.bias', [d]],
    );
  }
  shapes.push(['transformer.ln_f.weight', [d]], ['transformer.ln_f.bias', [d]]);
  const out: Record<string, TensorToWrite> = {};
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (Math.random() - 0.5) * 0.1;
    out[name] = { dtype, shape, data };
  }
  return out;
}

function evict(file: string): boolean {
  try {
    execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
    return true;
  } catch {
    return false;
  }
}

function plainRead(file: string): number {
  const t0 = performance.now();
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(64 << 20);
  let n = 0;
  for (let r; (r = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) n += r;
  fs.closeSync(fd);
  return n / 1e6 / ((performance.now() - t0) / 1000);
}

function loaderRead(dir: string): { mbps: number; bytes: number } {
  const t0 = performance.now();
  const ckpt = openCheckpoint(dir);
  let bytes = 0;
  let check = 0;
  for (const name of ckpt.tensors.keys()) {
    const a = ckpt.readFloat32(name);
    bytes += ckpt.tensors.get(name)!.byteLength;
    check += a[a.length - 1];
  }
  if (Number.isNaN(check)) throw new Error('unexpected NaN');
  return { mbps: bytes / 1e6 / ((performance.now() - t0) / 1000), bytes };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'entropylens-bench-'));
try {
  for (const dtype of ['F32', 'BF16'] as const) {
    const dir = path.join(root, dtype);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type":"gpt2"}');
    const file = path.join(dir, 'model.safetensors');
    writeSafetensors(file, gpt2Small(dtype));
    const size = fs.statSync(file).size;
    console.log(`${dtype}: ${(size / 1e6).toFixed(0)} MB file, 148 tensors`);
    for (let rep = 0; rep < 2; rep++) {
      const warmPlain = plainRead(file);
      const warm = loaderRead(dir);
      console.log(`  warm cache: plain sequential read ${warmPlain.toFixed(0)} MB/s, loader tensor-by-tensor ${warm.mbps.toFixed(0)} MB/s (file bytes)`);
    }
    if (evict(file)) {
      const coldPlain = plainRead(file);
      evict(file);
      const cold = loaderRead(dir);
      console.log(`  cold cache: plain sequential read ${coldPlain.toFixed(0)} MB/s, loader tensor-by-tensor ${cold.mbps.toFixed(0)} MB/s (file bytes)`);
    }
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
