/**
 * BLOOM (BloomForCausalLM): ALiBi instead of positions (scores = q·kᵀ/√d + slope·keypos), a
 * LayerNorm on the word embeddings, fused query_key_value with q, k, v interleaved per head,
 * the tanh GELU, biases everywhere, and the unembedding tied to the word embeddings.
 */
import { WeightList, baseSpec, hasBias, int, num, bool, known, type Config } from './common.js';
import type { Architecture } from './types.js';
import { UserError } from '../util/errors.js';

/**
 * ALiBi slopes as HF's build_alibi_tensor makes them: for the largest power of two c ≤ heads,
 * base^1..base^c with base = 2^(−8/c) (float32), then the odd powers of 2^(−4/c) for the rest.
 */
export function alibiSlopes(nHeads: number): number[] {
  const c = 2 ** Math.floor(Math.log2(nHeads));
  const base = Math.fround(2 ** -(2 ** -(Math.log2(c) - 3)));
  const slopes = Array.from({ length: c }, (_, i) => Math.fround(base ** (i + 1)));
  if (c !== nHeads) {
    const extra = Math.fround(2 ** -(2 ** -(Math.log2(2 * c) - 3)));
    const n = Math.min(c, nHeads - c);
    for (let i = 0; i < n; i++) slopes.push(Math.fround(extra ** (2 * i + 1)));
  }
  return slopes;
}

function bloomDims(cfg: Config): { d: number; H: number; L: number } {
  return { d: int(cfg, ['hidden_size', 'n_embed']), H: int(cfg, ['n_head', 'num_attention_heads']), L: int(cfg, ['n_layer', 'num_hidden_layers']) };
}

export const bloom: Architecture = {
  modelTypes: ['bloom'],
  hfClasses: ['BloomForCausalLM'],
  features: ['ALiBi (bias after the 1/√d scale)', 'LayerNorm on the word embeddings', 'fused query_key_value (per-head q, k, v)', 'tanh GELU', 'tied lm_head'],
  checkpoints: [
    known('bigscience/bloom-560m', 24, 1024, 16, 250880, '560M'),
    known('bigscience/bloom-1b1', 24, 1536, 16, 250880, '1.1B'),
    known('bigscience/bloom-1b7', 24, 2048, 16, 250880, '1.7B'),
    known('bigscience/bloom-3b', 30, 2560, 32, 250880, '3.0B'),
    known('bigscience/bloom-7b1', 30, 4096, 32, 250880, '7.1B'),
  ],
  prefixes: ['transformer.', ''],
  spec(cfg) {
    const { d: dModel, H: nHeads, L: nLayers } = bloomDims(cfg);
    if (bool(cfg, 'apply_residual_connection_post_layernorm', false)) {
      throw new UserError('config.json: apply_residual_connection_post_layernorm = true is not supported for bloom (no released checkpoint uses it)');
    }
    return baseSpec(cfg, {
      modelType: 'bloom',
      nLayers,
      dModel,
      nHeads,
      nKvHeads: nHeads,
      headDim: dModel / nHeads,
      // ALiBi has no position table; BLOOM was trained on 2048 tokens
      maxPositions: int(cfg, ['seq_length', 'max_position_embeddings'], 2048),
      norm: { kind: 'layer', eps: num(cfg, 'layer_norm_epsilon', 1e-5) },
      positions: 'alibi',
      fusedQkv: 'groups',
      alibi: { slopes: alibiSlopes(nHeads), order: 'add-after-scale' },
      // bloom_gelu_forward: x·0.5·(1 + tanh(0.79788456·x·(1 + 0.044715·x²)))
      mlp: { gated: false, act: 'gelu_fast' },
      bias: { qkv: true, o: true, mlp: true },
      embedNorm: true,
      tiedEmbeddings: bool(cfg, 'tie_word_embeddings', true),
    });
  },
  weights(spec, r, ckpt) {
    const w = new WeightList(r, ckpt);
    const d = spec.dModel;
    w.embeddings(spec, ['word_embeddings.weight'], ['lm_head.weight']);
    w.normPair('embed_norm', 'word_embeddings_layernorm', [d]);
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `h.${i}`;
      const c = `layers.${i}`;
      w.normPair(`${c}.attn_norm`, `${p}.input_layernorm`, [d]);
      w.normPair(`${c}.mlp_norm`, `${p}.post_attention_layernorm`, [d]);
      // query_key_value rows are [head][q|k|v][hd] (fusedQkv 'groups' of one query head)
      w.linearModule(`${c}.attn.qkv`, `${p}.self_attention.query_key_value`, 3 * d, d, hasBias(spec, 'qkv'));
      w.linearModule(`${c}.attn.o`, `${p}.self_attention.dense`, d, d, hasBias(spec, 'o'));
      w.linearModule(`${c}.mlp.up`, `${p}.mlp.dense_h_to_4h`, 4 * d, d, hasBias(spec, 'mlp'));
      w.linearModule(`${c}.mlp.down`, `${p}.mlp.dense_4h_to_h`, d, 4 * d, hasBias(spec, 'mlp'));
    }
    w.normPair('final_norm', 'ln_f', [d]);
    return w.items;
  },
};
