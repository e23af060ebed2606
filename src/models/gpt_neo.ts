/**
 * GPT-Neo (GPTNeoForCausalLM): GPT-2's block with nn.Linear weights, attention layers that
 * alternate global and local (window_size, as `attention_types` says), and no 1/√d scaling of
 * the scores; q, k, v without bias, out_proj with one.
 */
import { WeightList, activation, baseSpec, bool, hasBias, int, num, str, known, type Config } from './common.js';
import { cfgOptionalArray } from './config.js';
import type { Architecture } from './types.js';
import { UserError } from '../util/errors.js';

/** 'global' | 'local' per layer: config.attention_layers, else attention_types expanded ([[types], repeat], …). */
export function gptNeoLayerTypes(cfg: Config, nLayers: number): string[] {
  let types = cfgOptionalArray(cfg, 'attention_layers');
  const grouped = cfgOptionalArray(cfg, 'attention_types');
  if (!types && grouped) {
    types = [];
    for (const item of grouped) {
      if (!Array.isArray(item) || !Array.isArray(item[0]) || !Number.isInteger(item[1])) {
        throw new UserError(`config.json: attention_types entries must be [["global", "local"], repeat], found ${JSON.stringify(item)}`);
      }
      for (let k = 0; k < (item[1] as number); k++) types.push(...(item[0] as unknown[]));
    }
  }
  if (!types) types = Array.from({ length: nLayers }, (_, i) => (i % 2 === 0 ? 'global' : 'local'));
  if (types.length !== nLayers || !types.every((t) => t === 'global' || t === 'local')) {
    throw new UserError(`config.json: attention_layers must list 'global' or 'local' for each of the ${nLayers} layers, found ${JSON.stringify(types)}`);
  }
  return types as string[];
}

export const gpt_neo: Architecture = {
  modelTypes: ['gpt_neo'],
  hfClasses: ['GPTNeoForCausalLM'],
  features: ['learned absolute positions', 'alternating global / local attention (window_size)', 'no 1/√d score scaling', 'tied wte'],
  checkpoints: [
    known('EleutherAI/gpt-neo-125m', 12, 768, 12, 50257, '125M'),
    known('EleutherAI/gpt-neo-1.3B', 24, 2048, 16, 50257, '1.3B'),
    known('EleutherAI/gpt-neo-2.7B', 32, 2560, 20, 50257, '2.7B'),
  ],
  prefixes: ['transformer.', ''],
  spec(cfg) {
    const dModel = int(cfg, 'hidden_size');
    const nHeads = int(cfg, 'num_heads');
    const nLayers = int(cfg, 'num_layers');
    const window = int(cfg, 'window_size', 256);
    return baseSpec(cfg, {
      modelType: 'gpt_neo',
      nLayers,
      dModel,
      nHeads,
      nKvHeads: nHeads,
      headDim: dModel / nHeads,
      norm: { kind: 'layer', eps: num(cfg, 'layer_norm_epsilon', 1e-5) },
      positions: 'learned',
      attnScale: 1,
      slidingWindow: gptNeoLayerTypes(cfg, nLayers).map((t) => (t === 'local' ? window : null)),
      mlp: { gated: false, act: activation(str(cfg, 'activation_function', 'gelu_new'), 'activation_function') },
      // q, k, v without bias, out_proj and the MLP with one
      bias: { o: true, mlp: true },
      tiedEmbeddings: bool(cfg, 'tie_word_embeddings', true),
    });
  },
  weights(spec, r, ckpt) {
    const w = new WeightList(r, ckpt);
    const d = spec.dModel;
    const inner = int(ckpt.config, 'intermediate_size', 4 * d);
    w.embeddings(spec, ['wte.weight'], ['lm_head.weight']);
    w.plain('pos_embed.weight', 'wpe.weight', [spec.maxPositions, d]);
    for (let i = 0; i < spec.nLayers; i++) {
      const p = `h.${i}`;
      const c = `layers.${i}`;
      w.normPair(`${c}.attn_norm`, `${p}.ln_1`, [d]);
      w.normPair(`${c}.mlp_norm`, `${p}.ln_2`, [d]);
      for (const n of ['q', 'k', 'v']) w.linearModule(`${c}.attn.${n}`, `${p}.attn.attention.${n}_proj`, d, d, hasBias(spec, 'qkv'));
      w.linearModule(`${c}.attn.o`, `${p}.attn.attention.out_proj`, d, d, hasBias(spec, 'o'));
      w.linearModule(`${c}.mlp.up`, `${p}.mlp.c_fc`, inner, d, hasBias(spec, 'mlp'));
      w.linearModule(`${c}.mlp.down`, `${p}.mlp.c_proj`, d, inner, hasBias(spec, 'mlp'));
    }
    w.normPair('final_norm', 'ln_f', [d]);
    return w.items;
  },
};
