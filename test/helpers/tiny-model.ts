/**
 * Tiny random-weight models with a real tokenizer (the demo's byte-level BPE from assets/), for
 * end-to-end tests of text prompts. Weights are seeded, so runs are reproducible.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../../src/models/safetensors-write.js';
import { assetPath } from '../../src/util/package.js';
import { Rng } from '../../src/util/rng.js';

export interface TinyModelOptions {
  layers?: number;
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  seed?: number;
  /** Spread of the random weights: larger → more varied entropies. */
  scale?: number;
  /** max_position_embeddings (default 4096). */
  context?: number;
  /** Embedding rows and vocab_size (default: the tokenizer's vocabulary; fewer makes a mismatched tokenizer). */
  vocab?: number;
}

export function writeTinyLlama(dir: string, o: TinyModelOptions = {}): string {
  const layers = o.layers ?? 2;
  const d = o.hidden ?? 32;
  const heads = o.heads ?? 4;
  const kv = o.kvHeads ?? 2;
  const hd = d / heads;
  const inter = 2 * d;
  const rng = new Rng(o.seed ?? 1);
  const scale = o.scale ?? 0.3;
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(assetPath('demo-model', f), path.join(dir, f));
  const vocab = o.vocab ?? Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).model.vocab).length;
  const tensors: Record<string, TensorToWrite> = {};
  const put = (name: string, shape: number[], s = scale): void => {
    const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < data.length; i++) data[i] = (rng.next() * 2 - 1) * s;
    tensors[name] = { dtype: 'F32', shape, data };
  };
  const ones = (name: string): void => {
    tensors[name] = { dtype: 'F32', shape: [d], data: new Float32Array(d).fill(1) };
  };
  put('model.embed_tokens.weight', [vocab, d], 1);
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    ones(`${p}.input_layernorm.weight`);
    ones(`${p}.post_attention_layernorm.weight`);
    put(`${p}.self_attn.q_proj.weight`, [heads * hd, d]);
    put(`${p}.self_attn.k_proj.weight`, [kv * hd, d]);
    put(`${p}.self_attn.v_proj.weight`, [kv * hd, d]);
    put(`${p}.self_attn.o_proj.weight`, [d, heads * hd]);
    put(`${p}.mlp.gate_proj.weight`, [inter, d]);
    put(`${p}.mlp.up_proj.weight`, [inter, d]);
    put(`${p}.mlp.down_proj.weight`, [d, inter]);
  }
  ones('model.norm.weight');
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  const config = {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: d, intermediate_size: inter, num_attention_heads: heads,
    num_key_value_heads: kv, num_hidden_layers: layers, vocab_size: vocab, max_position_embeddings: o.context ?? 4096, rms_norm_eps: 1e-6,
    rope_theta: 10000, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu',
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}
