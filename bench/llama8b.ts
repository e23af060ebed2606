/**
 * Proof at real size (issue 16 §3): a random checkpoint of Llama-3-8B's exact shape (hidden 4096,
 * 32 layers, 32 heads, 8 KV heads, intermediate 14336, vocabulary 128256, untied, bf16; ~16 GB,
 * streamed to disk a chunk at a time, never whole in memory) — or with `--shape 1b` of
 * Llama-3.2-1B's (hidden 2048, 16 layers, 32 heads, 8 KV heads, intermediate 8192, vocabulary
 * 128256, tied; ~2.5 GB) or with `--shape gemma2-9b` of Gemma-2-9B's (hidden 3584, 42 layers, 16 heads
 * of 256, 8 KV heads, intermediate 14336, vocabulary 256000, tied, attention and final soft-capping,
 * sliding windows; ~18.5 GB) — then `entropylens profile` on 4 prompts of 100 token ids × 4 new tokens
 * through the CLI, once per mode (each with its own cache, loaded twice: the first load hashes the
 * checkpoint and writes what the cache holds), printing load time, generate time, peak RSS and the
 * cache's size on disk. Modes: `checkpoint` (--weight-dtype checkpoint, the default: bf16 weights
 * kept, read in place from the checkpoint), `int8` (--quantize int8), `float32` (--weight-dtype
 * float32: every weight converted at load and cached; left out where it needs more memory than the
 * machine has).
 *
 * Usage: node dist/bench/llama8b.js [--shape 8b|1b|gemma2-9b] [--modes int8,checkpoint,float32] [--dir DIR (kept, reused)]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { folderBytes } from './disk.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const option = (name: string, def: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
/** The shapes this bench writes: their sizes and config.json. */
interface Shape {
  name: string;
  family: 'llama' | 'gemma2';
  D: number;
  layers: number;
  heads: number;
  kv: number;
  headDim: number;
  ff: number;
  vocab: number;
  tied: boolean;
  bos: number;
}
const SHAPES: Record<string, Shape> = {
  '8b': { name: 'Llama-3-8B', family: 'llama', D: 4096, layers: 32, heads: 32, kv: 8, headDim: 128, ff: 14336, vocab: 128256, tied: false, bos: 128000 },
  '1b': { name: 'Llama-3.2-1B', family: 'llama', D: 2048, layers: 16, heads: 32, kv: 8, headDim: 64, ff: 8192, vocab: 128256, tied: true, bos: 128000 },
  'gemma2-9b': { name: 'Gemma-2-9B', family: 'gemma2', D: 3584, layers: 42, heads: 16, kv: 8, headDim: 256, ff: 14336, vocab: 256000, tied: true, bos: 2 },
};
const SHAPE = option('--shape', '8b');
const S = SHAPES[SHAPE];
if (!S) throw new Error(`--shape ${SHAPE}: one of ${Object.keys(SHAPES).join(', ')}`);

/** The checkpoint's tensors in file order: name, shape, and the spread of its random values (0 = ones; Gemma stores w of 1 + w, so zeros there). */
function tensors(): { name: string; shape: number[]; std: number }[] {
  const { D, heads, kv, headDim: HD, ff } = S;
  const norm = (name: string): { name: string; shape: number[]; std: number } => ({ name, shape: [D], std: 0 });
  const out: { name: string; shape: number[]; std: number }[] = [{ name: 'model.embed_tokens.weight', shape: [S.vocab, D], std: 0.02 }];
  for (let l = 0; l < S.layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      norm(`${p}.input_layernorm.weight`),
      { name: `${p}.self_attn.q_proj.weight`, shape: [heads * HD, D], std: 0.02 },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv * HD, D], std: 0.02 },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv * HD, D], std: 0.02 },
      { name: `${p}.self_attn.o_proj.weight`, shape: [D, heads * HD], std: 0.02 },
      norm(`${p}.post_attention_layernorm.weight`),
      ...(S.family === 'gemma2' ? [norm(`${p}.pre_feedforward_layernorm.weight`), norm(`${p}.post_feedforward_layernorm.weight`)] : []),
      { name: `${p}.mlp.gate_proj.weight`, shape: [ff, D], std: 0.02 },
      { name: `${p}.mlp.up_proj.weight`, shape: [ff, D], std: 0.02 },
      { name: `${p}.mlp.down_proj.weight`, shape: [D, ff], std: 0.02 },
    );
  }
  out.push(norm('model.norm.weight'));
  if (!S.tied) out.push({ name: 'lm_head.weight', shape: [S.vocab, D], std: 0.02 });
  return out;
}

/** Write model.safetensors (bf16) a chunk at a time, and config.json. */
function writeCheckpoint(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const list = tensors();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of list) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = fs.openSync(path.join(dir, 'model.safetensors'), 'w');
  const chunk = new Uint16Array(1 << 22);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = 12345;
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, json);
    for (const t of list) {
      let left = t.shape.reduce((a, b) => a * b, 1);
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        for (let i = 0; i < n; i++) {
          if (t.std === 0) {
            chunk[i] = 0x3f80; // 1.0
            continue;
          }
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          f[0] = (s / 4294967296 - 0.5) * t.std * 3.46; // uniform with this std
          chunk[i] = u[0] >>> 16;
        }
        const b = new Uint8Array(chunk.buffer, 0, n * 2);
        for (let done = 0; done < b.length; ) done += fs.writeSync(fd, b, done, b.length - done);
        left -= n;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  const common = {
    hidden_size: S.D, num_hidden_layers: S.layers, num_attention_heads: S.heads, num_key_value_heads: S.kv, head_dim: S.headDim,
    intermediate_size: S.ff, vocab_size: S.vocab, tie_word_embeddings: S.tied, bos_token_id: S.bos, torch_dtype: 'bfloat16',
  };
  const config = S.family === 'llama'
    ? { ...common, model_type: 'llama', architectures: ['LlamaForCausalLM'], max_position_embeddings: 8192, rms_norm_eps: 1e-5, rope_theta: 500000, eos_token_id: 128001, hidden_act: 'silu' }
    : {
        ...common, model_type: 'gemma2', architectures: ['Gemma2ForCausalLM'], max_position_embeddings: 8192, rms_norm_eps: 1e-6, rope_theta: 10000, eos_token_id: 1, pad_token_id: 0,
        hidden_activation: 'gelu_pytorch_tanh', query_pre_attn_scalar: 256, sliding_window: 4096, attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0,
      };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
}

const argDir = process.argv.indexOf('--dir');
const base = argDir >= 0 ? process.argv[argDir + 1] : fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-8b-'));
const model = path.join(base, SHAPE === '8b' || SHAPE === '1b' ? `llama3-${SHAPE}-shape` : `${SHAPE}-shape`);
try {
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`);
  if (!fs.existsSync(path.join(model, 'config.json'))) {
    const t = performance.now();
    writeCheckpoint(model);
    console.log(`wrote the checkpoint in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  const ckpt = fs.statSync(path.join(model, 'model.safetensors')).size;
  console.log(`checkpoint: ${S.name} shape, bf16, ${(ckpt / 2 ** 30).toFixed(2)} GiB`);
  let s = 777;
  const prompts = Array.from({ length: 4 }, () => [S.bos, ...Array.from({ length: 99 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s % 128000))].join(','));
  const modes = option('--modes', SHAPE === '1b' ? 'float32,checkpoint,int8' : 'int8,checkpoint').split(',');
  for (const mode of modes) {
    const flags = mode === 'int8' ? ['--quantize', 'int8'] : mode === 'checkpoint' ? ['--weight-dtype', 'checkpoint'] : mode === 'float32' ? ['--weight-dtype', 'float32'] : undefined;
    if (!flags) throw new Error(`--modes: ${mode} is not int8, checkpoint or float32`);
    // float32: 4 bytes per parameter plus the packing at load
    if (mode === 'float32' && 2.2 * ckpt > os.totalmem()) {
      console.log(`float32: skipped, its weights alone need ${((2 * ckpt) / 2 ** 30).toFixed(0)} GiB and the machine has ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`);
      continue;
    }
    const cache = path.join(base, `cache-${mode}`);
    for (const pass of ['first load (hash + cache written)', 'second load (cache warm)']) {
      const args = ['--quiet', 'profile', model, '--cache-dir', cache, '--max-new-tokens', '4', '--batch-size', '4', '--json', ...flags, ...prompts.flatMap((p) => ['--input-ids', p])];
      const out = execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
      const doc = JSON.parse(out) as { timing: { load_seconds: number; generate_seconds: number }; memory: { peak_rss_mb: number } };
      const cacheBytes = folderBytes(cache);
      console.log(
        `${mode}, ${pass}: load ${doc.timing.load_seconds.toFixed(0)} s, generate (4 × 100-token prefill + 3 decode steps) ${doc.timing.generate_seconds.toFixed(1)} s, ` +
          `peak RSS ${(doc.memory.peak_rss_mb / 1024).toFixed(2)} GiB = ${((doc.memory.peak_rss_mb * 2 ** 20) / ckpt).toFixed(2)}× the bf16 checkpoint; cache on disk ${(cacheBytes / 2 ** 20).toFixed(1)} MiB = ${((100 * cacheBytes) / ckpt).toFixed(2)}% of the checkpoint`,
      );
    }
  }
} finally {
  if (argDir < 0) fs.rmSync(base, { recursive: true, force: true });
}
