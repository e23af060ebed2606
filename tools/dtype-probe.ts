/**
 * What ONNX Runtime's CPU provider does with 16-bit weights (issue 16, a development probe, not a
 * test): one linear layer y = x · Wᵀ of a Llama-3-8B MLP shape (W [14336, 4096]) built four ways, each
 * in its own process, reporting resident memory after the session is created and the time per run
 * for a decode-shaped (1 row) and a prefill-shaped (128 rows) input:
 *
 * - `f32`:  W as a float32 initializer into Gemm (transB) — today's path, pre-packed by MLAS;
 * - `bf16`: W as a bfloat16 initializer, Cast to float32, then Gemm — with default optimisations;
 * - `bf16-nofold`: the same with constant folding switched off (so the Cast is not folded into a
 *   float32 copy at load);
 * - `f16`: W as float16, Cast, Gemm, default optimisations;
 * - `f32-file`, `bf16-nofold-file`: as `f32` and `bf16-nofold`, with W as external data at byte 8 of
 *   a file beside the model (as a checkpoint's tensor is read in place), also reporting whether the
 *   session keeps that file memory-mapped (/proc/self/maps, Linux).
 *
 * Usage: node dist/tools/dtype-probe.js [--rows-out 14336] [--cols 4096]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { f32ToBf16Bits, f32ToF16Bits } from '../src/models/safetensors-write.js';
import { ort } from '../src/runtime/ort.js';

const here = fileURLToPath(import.meta.url);
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const OUT = arg('--rows-out', 14336);
const IN = arg('--cols', 4096);

/** The probe's model bytes: W of `kind` as an initializer, Cast to float32 where 16-bit, then Gemm (transB). */
async function modelBytes(kind: string, external?: string): Promise<Uint8Array> {
  const { onnx } = (await import('onnx-proto')).default;
  const w = new Float32Array(OUT * IN);
  let s = 7;
  for (let i = 0; i < w.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = (s / 4294967296 - 0.5) * 0.04;
  }
  const half = kind.startsWith('f32') ? undefined : kind === 'f16' ? f32ToF16Bits(w) : f32ToBf16Bits(w);
  const dataType = kind.startsWith('f32') ? 1 : kind === 'f16' ? 10 : 16;
  const raw = half ? new Uint8Array(half.buffer) : new Uint8Array(w.buffer);
  // external: the bytes at offset 8 of a data file (safetensors offsets are 8-aligned, not page-aligned)
  if (external) fs.writeFileSync(external, Buffer.concat([Buffer.alloc(8), Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)]));
  const init = external
    ? { name: 'w', dims: [OUT, IN], dataType, dataLocation: 1, externalData: [{ key: 'location', value: path.basename(external) }, { key: 'offset', value: '8' }, { key: 'length', value: String(raw.byteLength) }] }
    : { name: 'w', dims: [OUT, IN], dataType, rawData: raw };
  const nodes = half
    ? [
        { opType: 'Cast', input: ['w'], output: ['w32'], name: 'cast', attribute: [{ name: 'to', type: 2, i: 1 }] },
        { opType: 'Gemm', input: ['x', 'w32'], output: ['y'], name: 'gemm', attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ]
    : [{ opType: 'Gemm', input: ['x', 'w'], output: ['y'], name: 'gemm', attribute: [{ name: 'transB', type: 2, i: 1 }] }];
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 9,
      opsetImport: [{ domain: '', version: 20 }],
      graph: {
        name: 'probe',
        node: nodes,
        initializer: [init],
        input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'rows' }, { dimValue: IN }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'rows' }, { dimValue: OUT }] } } } }],
      },
    }),
  ).finish();
}

async function child(kind: string): Promise<void> {
  const dir = kind.endsWith('-file') ? fs.mkdtempSync(path.join(os.tmpdir(), 'el-dtype-probe-')) : undefined;
  const dataFile = dir && path.join(dir, 'weights.data');
  let model: Uint8Array | undefined = await modelBytes(kind, dataFile);
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all' };
  if (kind.startsWith('bf16-nofold')) opts.extra = { optimization: { disable_specified_optimizers: 'ConstantFolding' } };
  const gc = (globalThis as { gc?: () => void }).gc;
  let session: ort.InferenceSession;
  if (dir) {
    fs.writeFileSync(path.join(dir, 'model.onnx'), model);
    session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), opts);
  } else session = await ort.InferenceSession.create(model, opts);
  const mapped = dataFile && fs.existsSync('/proc/self/maps') ? fs.readFileSync('/proc/self/maps', 'utf8').includes(dataFile) : undefined;
  // what the session holds: RSS once the model bytes and the JS copies are gone
  model = undefined;
  gc?.();
  await new Promise((r) => setTimeout(r, 100));
  gc?.();
  const rssSession = process.memoryUsage().rss;
  const times: Record<string, number> = {};
  for (const rows of [1, 128]) {
    const x = new ort.Tensor('float32', new Float32Array(rows * IN).fill(0.01), [rows, IN]);
    for (let i = 0; i < 2; i++) await session.run({ x });
    const reps = rows === 1 ? 20 : 5;
    const t = performance.now();
    for (let i = 0; i < reps; i++) await session.run({ x });
    times[`ms_rows${rows}`] = (performance.now() - t) / reps;
  }
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(IN).fill(0.01), [1, IN]) });
  const y = out.y.data as Float32Array;
  await session.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ kind, mapped, modelMB: (OUT * IN * (kind.startsWith('f32') ? 4 : 2)) / 2 ** 20, sessionMB: rssSession / 2 ** 20, peakMB: process.resourceUsage().maxRSS / 1024, ...times, y0: y[0] }));
}

if (process.argv[2] === 'child') {
  await child(process.argv[3]);
} else {
  console.log(`W [${OUT}, ${IN}]: float32 ${((OUT * IN * 4) / 2 ** 20).toFixed(0)} MB, 16-bit ${((OUT * IN * 2) / 2 ** 20).toFixed(0)} MB; onnxruntime-node ${ort.env.versions.common ?? ''}`);
  for (const kind of ['f32', 'bf16', 'bf16-nofold', 'f16', 'f32-file', 'bf16-nofold-file']) {
    const r = spawnSync(process.execPath, ['--expose-gc', here, 'child', kind, ...process.argv.slice(2)], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`${kind}: failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      continue;
    }
    const v = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string | boolean | undefined>;
    console.log(
      `${String(kind).padEnd(16)} RSS with the session ${Number(v.sessionMB).toFixed(0)} MB (initializer ${Number(v.modelMB).toFixed(0)} MB), ` +
        `1 row ${Number(v.ms_rows1).toFixed(2)} ms, 128 rows ${Number(v.ms_rows128).toFixed(1)} ms` +
        (v.mapped === undefined ? '' : `; the data file ${v.mapped ? 'stays memory-mapped' : 'is not mapped'} after session creation`),
    );
  }
}
