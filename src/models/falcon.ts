/**
 * Falcon (FalconForCausalLM) in its three layouts of the fused query_key_value:
 * - new_decoder_architecture (Falcon-40B/180B/11B): kv groups, each [its queries | k | v];
 *   ln_attn and ln_mlp (num_ln_in_parallel_attn = 2) or one shared input_layernorm;
 * - multi_query (Falcon-7B): [all queries | k | v] with one kv head;
 * - neither (Falcon-RW): q, k, v interleaved per head.
 * Rotary or ALiBi, parallel attention + MLP or sequential blocks, optional biases (`bias`), exact
 * GELU by default.
 *
 * ALiBi as Hugging Face's eager attention computes it (v4.47, the hf-parity fixtures): the bias is
 * built in bfloat16 and counts twice, scores = (q·kᵀ + bias)/√d + bias/√d, because the eager path
 * adds it to the scores and HF's mask builder also folds bias/√d into the causal mask. HF's SDPA
 * path and the original Falcon-RW code add it once; see AlibiSpec.repeatedInMask.
 */
import { WeightList, activation, baseSpec, biases, bool, hasBias, int, num, ropeFromConfig, str, known, type Config } from './common.js';
import { alibiSlopes } from './bloom.js';
import { cfgOptionalInt } from './config.js';
import type { Architecture } from './types.js';
import { UserError } from '../util/errors.js';

interface FalconLayout {
  newArch: boolean;
  multiQuery: boolean;
  parallel: boolean;
  /** new_decoder_architecture: separate ln_attn and ln_mlp. */
  twoNorms: boolean;
}

function layout(cfg: Config): FalconLayout {
  const newArch = bool(cfg, 'new_decoder_architecture', false);
  const parallel = bool(cfg, 'parallel_attn', true);
  const twoNorms = newArch && (cfgOptionalInt(cfg, 'num_ln_in_parallel_attn') ?? 2) === 2;
  if (newArch && !parallel) {
    throw new UserError('config.json: falcon with new_decoder_architecture needs parallel_attn = true (HF cannot run the other combination either)');
  }
  return { newArch, multiQuery: bool(cfg, 'multi_query', true), parallel, twoNorms };
}

export const falcon: Architecture = {
  modelTypes: ['falcon', 'RefinedWebModel', 'RefinedWeb'],
  hfClasses: ['FalconForCausalLM'],
  features: [
    'fused query_key_value: new_decoder_architecture (kv groups), multi_query, per-head interleaved',
    'rotary or ALiBi (bfloat16 bias, counted twice as in HF eager attention)',
    'parallel attention + MLP (one or two norms) or sequential',
    'optional biases',
  ],
  checkpoints: [
    known('tiiuae/falcon-rw-1b', 24, 2048, 32, 50304, '1.3B', { note: 'ALiBi, sequential' }),
    known('tiiuae/falcon-7b', 32, 4544, 71, 65024, '7B', { kvHeads: 1, note: 'multi_query, parallel' }),
    known('tiiuae/falcon-11B', 60, 4096, 32, 65024, '11B', { kvHeads: 8, note: 'new_decoder_architecture' }),
    known('tiiuae/falcon-40b', 60, 8192, 128, 65024, '40B', { kvHeads: 8, note: 'new_decoder_architecture' }),
  ],
  prefixes: ['transformer.', ''],
  spec(cfg) {
    const lo = layout(cfg);
    const nHeads = int(cfg, ['num_attention_heads', 'n_head']);
    const nLayers = int(cfg, ['num_hidden_layers', 'n_layer']);
    const headDim = int(cfg, 'hidden_size') / nHeads;
    const nKvHeads = lo.newArch ? int(cfg, ['num_kv_heads', 'n_head_kv'], nHeads) : lo.multiQuery ? 1 : nHeads;
    const useAlibi = bool(cfg, 'alibi', false);
    const bias = bool(cfg, 'bias', false);
    const spec = baseSpec(cfg, {
      modelType: 'falcon',
      nLayers,
      nHeads,
      nKvHeads,
      headDim,
      norm: { kind: 'layer', eps: num(cfg, 'layer_norm_epsilon', 1e-5) },
      positions: useAlibi ? 'alibi' : 'rope',
      rope: useAlibi ? undefined : ropeFromConfig(cfg, headDim),
      alibi: useAlibi ? { slopes: alibiSlopes(nHeads), order: 'add-before-scale', bfloat16: true, repeatedInMask: true } : undefined,
      mlp: { gated: false, act: activation(str(cfg, 'activation', 'gelu'), 'activation') },
      residual: lo.parallel ? 'parallel' : 'sequential',
      sharedBlockNorm: lo.parallel && !lo.twoNorms ? true : undefined,
      // multi-query keeps [q heads | k | v]: three contiguous row blocks, each read in place
      fusedQkv: lo.multiQuery && !lo.newArch ? undefined : 'groups',
      bias: biases({ qkv: bias, o: bias, mlp: bias }),
      tiedEmbeddings: bool(cfg, 'tie_word_embeddings', true),
    });
    if (nHeads % nKvHeads !== 0) throw new UserError(`config.json: num_attention_heads (${nHeads}) must be a multiple of num_kv_heads (${nKvHeads})`);
    return spec;
  },
  weights(spec, r, ckpt) {
    const cfg = ckpt.config;
    const lo = layout(cfg);
    const w = new WeightList(r, ckpt);
    const { dModel: d, nHeads: H, nKvHeads: KV, headDim: hd } = spec;
    const ffn = int(cfg, 'ffn_hidden_size', 4 * d);
    const bias = hasBias(spec, 'qkv');
    w.embeddings(spec, ['word_embeddings.weight'], ['lm_head.weight']);
    const layerNorm = (canon: string, hf: string): void => {
      w.normPair(`${canon}`, `${hf}`, [d]);
    };
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `h.${i}`;
      const c = `layers.${i}`;
      if (lo.twoNorms) {
        layerNorm(`${c}.attn_norm`, `${p}.ln_attn`);
        layerNorm(`${c}.mlp_norm`, `${p}.ln_mlp`);
      } else {
        layerNorm(`${c}.attn_norm`, `${p}.input_layernorm`);
        if (!lo.parallel) layerNorm(`${c}.mlp_norm`, `${p}.post_attention_layernorm`);
      }
      const qkv = `${p}.self_attention.query_key_value`;
      if (spec.fusedQkv) {
        // new decoder architecture: per kv group [its H/KV q heads | k | v]; else [head][q|k|v]
        w.linearModule(`${c}.attn.qkv`, qkv, (H + 2 * KV) * hd, d, bias);
      } else {
        // multi-query: [all q heads | k | v], three contiguous row blocks
        w.expect(`${qkv}.weight`, [(H + 2 * KV) * hd, d]);
        if (bias) w.expect(`${qkv}.bias`, [(H + 2 * KV) * hd]);
        const blocks = { q: [0, H * hd], k: [H * hd, hd], v: [(H + 1) * hd, hd] } as const;
        for (const n of ['q', 'k', 'v'] as const) {
          w.rowBlocks(`${c}.attn.${n}.weight`, `${qkv}.weight`, d, [[...blocks[n]]]);
          if (bias) w.biasBlocks(`${c}.attn.${n}.bias`, `${qkv}.bias`, [[...blocks[n]]]);
        }
      }
      w.linearModule(`${c}.attn.o`, `${p}.self_attention.dense`, d, d, hasBias(spec, 'o'));
      w.linearModule(`${c}.mlp.up`, `${p}.mlp.dense_h_to_4h`, ffn, d, hasBias(spec, 'mlp'));
      w.linearModule(`${c}.mlp.down`, `${p}.mlp.dense_4h_to_h`, d, ffn, hasBias(spec, 'mlp'));
    }
    layerNorm('final_norm', 'ln_f');
    return w.items;
  },
};
