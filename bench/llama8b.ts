/**
 * Proof at real size (issue 16 §3): a random checkpoint of Llama-3-8B's exact shape (hidden 4096,
 * 32 layers, 32 heads, 8 KV heads, intermediate 14336, vocabulary 128256, untied, bf16; ~16 GB,
 * streamed to disk a chunk at a time, never whole in memory) — or with `--shape 1b` of
 * Llama-3.2-1B's (hidden 2048, 16 layers, 32 heads, 8 KV heads, intermediate 8192, vocabulary
 * 128256, tied; ~2.5 GB) — then `entropylens profile` on 4 prompts of 100 token ids × 4 new tokens
 * through the CLI, once per mode (each with its own cache, loaded twice: the first load hashes the
 * checkpoint and writes the cache), printing load time, generate time, peak RSS and the cache's size
 * on disk. Modes: `int8` (--quantize int8), `checkpoint` (--weight-dtype checkpoint: bf16 kept),
 * `float32` (the default: every weight converted at load; left out where it needs more memory than
 * the machine has).
 *
 * Usage: node dist/bench/llama8b.js [--shape 8b|1b] [--modes int8,checkpoint,float32] [--dir DIR (kept, reused)]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const option = (name: string, def: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
const SHAPE = option('--shape', '8b');
if (SHAPE !== '8b' && SHAPE !== '1b') throw new Error(`--shape ${SHAPE}: 8b or 1b`);
const [D, LAYERS, FF, TIED] = SHAPE === '8b' ? [4096, 32, 14336, false] : [2048, 16, 8192, true];
const HEADS = 32;
const KV = 8;
const VOCAB = 128256;
const HD = D / HEADS;
const NAME = SHAPE === '8b' ? 'Llama-3-8B' : 'Llama-3.2-1B';

/** The checkpoint's tensors in file order: name, shape, and the spread of its random values (0 = ones). */
function tensors(): { name: string; shape: number[]; std: number }[] {
  const out: { name: string; shape: number[]; std: number }[] = [{ name: 'model.embed_tokens.weight', shape: [VOCAB, D], std: 0.02 }];
  for (let l = 0; l < LAYERS; l++) {
    const p = `model.layers.${l}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [D], std: 0 },
      { name: `${p}.self_attn.q_proj.weight`, shape: [HEADS * HD, D], std: 0.02 },
      { name: `${p}.self_attn.k_proj.weight`, shape: [KV * HD, D], std: 0.02 },
      { name: `${p}.self_attn.v_proj.weight`, shape: [KV * HD, D], std: 0.02 },
      { name: `${p}.self_attn.o_proj.weight`, shape: [D, HEADS * HD], std: 0.02 },
      { name: `${p}.post_attention_layernorm.weight`, shape: [D], std: 0 },
      { name: `${p}.mlp.gate_proj.weight`, shape: [FF, D], std: 0.02 },
      { name: `${p}.mlp.up_proj.weight`, shape: [FF, D], std: 0.02 },
      { name: `${p}.mlp.down_proj.weight`, shape: [D, FF], std: 0.02 },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [D], std: 0 });
  if (!TIED) out.push({ name: 'lm_head.weight', shape: [VOCAB, D], std: 0.02 });
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
  const config = {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: D, num_hidden_layers: LAYERS, num_attention_heads: HEADS,
    num_key_value_heads: KV, intermediate_size: FF, vocab_size: VOCAB, max_position_embeddings: 8192, rms_norm_eps: 1e-5,
    rope_theta: 500000, tie_word_embeddings: TIED, bos_token_id: 128000, eos_token_id: 128001, torch_dtype: 'bfloat16', hidden_act: 'silu',
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
}

function du(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? du(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size;
  return n;
}

const argDir = process.argv.indexOf('--dir');
const base = argDir >= 0 ? process.argv[argDir + 1] : fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-8b-'));
const model = path.join(base, `llama3-${SHAPE}-shape`);
try {
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`);
  if (!fs.existsSync(path.join(model, 'config.json'))) {
    const t = performance.now();
    writeCheckpoint(model);
    console.log(`wrote the checkpoint in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  const ckpt = fs.statSync(path.join(model, 'model.safetensors')).size;
  console.log(`checkpoint: ${NAME} shape, bf16, ${(ckpt / 2 ** 30).toFixed(2)} GiB`);
  let s = 777;
  const prompts = Array.from({ length: 4 }, () => [128000, ...Array.from({ length: 99 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s % 128000))].join(','));
  const modes = option('--modes', SHAPE === '8b' ? 'int8,checkpoint' : 'float32,checkpoint,int8').split(',');
  for (const mode of modes) {
    const flags = mode === 'int8' ? ['--quantize', 'int8'] : mode === 'checkpoint' ? ['--weight-dtype', 'checkpoint'] : mode === 'float32' ? [] : undefined;
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
      console.log(
        `${mode}, ${pass}: load ${doc.timing.load_seconds.toFixed(0)} s, generate (4 × 100-token prefill + 3 decode steps) ${doc.timing.generate_seconds.toFixed(1)} s, ` +
          `peak RSS ${(doc.memory.peak_rss_mb / 1024).toFixed(2)} GiB = ${((doc.memory.peak_rss_mb * 2 ** 20) / ckpt).toFixed(2)}× the bf16 checkpoint; cache on disk ${(du(cache) / 2 ** 30).toFixed(2)} GiB`,
      );
    }
  }
} finally {
  if (argDir < 0) fs.rmSync(base, { recursive: true, force: true });
}
