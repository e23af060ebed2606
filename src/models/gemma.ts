/**
 * Gemma (GemmaForCausalLM): Llama's shape with the embeddings scaled by √hidden, RMSNorms that
 * multiply by (1 + w), a GeGLU MLP and an explicit head_dim. Also the helpers Gemma-2/3 share.
 */
import type { Checkpoint, TensorResolver } from './checkpoint.js';
import { WeightList, activation, baseSpec, biases, bool, checkHeads, hasBias, int, str, known, type Config } from './common.js';
import type { Architecture, DecoderSpec, WeightSource } from './types.js';

/** Gemma's activation key: hidden_activation, and gelu_pytorch_tanh when absent (HF ignores hidden_act). */
export function gemmaActivation(cfg: Config): DecoderSpec['mlp']['act'] {
  return activation(str(cfg, 'hidden_activation', 'gelu_pytorch_tanh'), 'hidden_activation');
}

/** √hidden as the compute dtype (float32) holds it: HF multiplies by torch.tensor(hidden**0.5, dtype). */
export function gemmaEmbedScale(dModel: number): number {
  return Math.fround(Math.sqrt(dModel));
}

/** The parts of a Gemma-family spec that are read the same way in all three generations. */
export function gemmaBaseSpec(cfg: Config, modelType: string): DecoderSpec {
  const spec = baseSpec(cfg, {
    modelType,
    maxPositions: int(cfg, 'max_position_embeddings', 8192),
    mlp: { gated: true, act: gemmaActivation(cfg) },
    bias: biases({ qkv: bool(cfg, 'attention_bias', false), o: bool(cfg, 'attention_bias', false) }),
    embedScale: gemmaEmbedScale(int(cfg, 'hidden_size')),
    tiedEmbeddings: bool(cfg, 'tie_word_embeddings', true),
  });
  checkHeads(spec);
  return spec;
}

/** A Gemma RMSNorm weight, exported with its (1 + w) folded in (float32, as HF computes it). */
export function onePlus(w: WeightList, canon: string, hf: string, size: number): void {
  w.expect(hf, [size]);
  w.derived(canon, [size], () => w.r.get(hf).map((v) => 1 + v));
}

export interface GemmaWeightOptions {
  /** Gemma-2/3: post-attention and pre/post-feedforward norms. */
  sandwich?: boolean;
  /** Gemma-3: q_norm / k_norm over each head. */
  qkNorm?: boolean;
}

export function gemmaWeights(spec: DecoderSpec, r: TensorResolver, ckpt: Checkpoint, cfg: Config, o: GemmaWeightOptions): WeightSource[] {
  const w = new WeightList(r, ckpt);
  const { dModel: d, nHeads: H, nKvHeads: KV, headDim: hd } = spec;
  const inter = int(cfg, 'intermediate_size');
  w.embeddings(spec, ['embed_tokens.weight'], ['lm_head.weight']);
  for (let i = 0; i < spec.nLayers; i++) {
    const p = `layers.${i}`;
    onePlus(w, `${p}.attn_norm.weight`, `${p}.input_layernorm.weight`, d);
    if (o.sandwich) {
      // Gemma-2's post_attention_layernorm follows attention; the MLP's pre-norm is pre_feedforward_layernorm
      onePlus(w, `${p}.post_attn_norm.weight`, `${p}.post_attention_layernorm.weight`, d);
      onePlus(w, `${p}.mlp_norm.weight`, `${p}.pre_feedforward_layernorm.weight`, d);
      onePlus(w, `${p}.post_mlp_norm.weight`, `${p}.post_feedforward_layernorm.weight`, d);
    } else {
      onePlus(w, `${p}.mlp_norm.weight`, `${p}.post_attention_layernorm.weight`, d);
    }
    for (const [n, out] of [['q', H * hd], ['k', KV * hd], ['v', KV * hd]] as const) w.linearModule(`${p}.attn.${n}`, `${p}.self_attn.${n}_proj`, out, d, hasBias(spec, 'qkv'));
    w.linearModule(`${p}.attn.o`, `${p}.self_attn.o_proj`, d, H * hd, hasBias(spec, 'o'));
    if (o.qkNorm) {
      onePlus(w, `${p}.attn.q_norm.weight`, `${p}.self_attn.q_norm.weight`, hd);
      onePlus(w, `${p}.attn.k_norm.weight`, `${p}.self_attn.k_norm.weight`, hd);
    }
    w.linear(`${p}.mlp.gate.weight`, `${p}.mlp.gate_proj.weight`, inter, d);
    w.linear(`${p}.mlp.up.weight`, `${p}.mlp.up_proj.weight`, inter, d);
    w.linear(`${p}.mlp.down.weight`, `${p}.mlp.down_proj.weight`, d, inter);
  }
  onePlus(w, 'final_norm.weight', 'norm.weight', d);
  return w.items;
}

export const gemma: Architecture = {
  modelTypes: ['gemma'],
  hfClasses: ['GemmaForCausalLM'],
  features: ['embeddings × √hidden', 'RMSNorm (1 + w)', 'GeGLU (gelu_pytorch_tanh)', 'multi-query / grouped-query attention', 'head_dim ≠ hidden/heads'],
  checkpoints: [
    known('google/gemma-2b', 18, 2048, 8, 256000, '2.5B', { kvHeads: 1 }),
    known('google/gemma-7b', 28, 3072, 16, 256000, '8.5B'),
  ],
  prefixes: ['model.', ''],
  spec: (cfg) => gemmaBaseSpec(cfg, 'gemma'),
  weights: (spec, r, ckpt) => gemmaWeights(spec, r, ckpt, ckpt.config, {}),
};
