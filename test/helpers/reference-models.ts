/**
 * The tiny checkpoints of the float64-reference tests (test/models/*.test.ts): their config.json and
 * seeded random weights in Hugging Face layout. Kept apart from the tests so that scripts (the graph
 * digest in tools/) and other tests can build exactly the same models.
 */
import { TinyCheckpoint } from './reference-ops.js';

export const GEMMA3_CFG = {
  architectures: ['Gemma3ForCausalLM'],
  model_type: 'gemma3_text',
  vocab_size: 96,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  hidden_activation: 'gelu_pytorch_tanh',
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  rope_theta: 1_000_000,
  rope_local_base_freq: 10_000,
  rope_scaling: { rope_type: 'linear', factor: 4 },
  query_pre_attn_scalar: 24,
  sliding_window: 3,
  sliding_window_pattern: 3,
  final_logit_softcapping: 8,
  attn_logit_softcapping: null,
  tie_word_embeddings: true,
  bos_token_id: 2,
  eos_token_id: 1,
};

export function buildGemma3(dir: string): TinyCheckpoint {
  const c = new TinyCheckpoint(1234);
  const { hidden_size: d, intermediate_size: f, num_attention_heads: H, num_key_value_heads: KV, head_dim: hd } = GEMMA3_CFG;
  // small embeddings (× √hidden in the model) so attention and MLP, whose outputs are RMS-normed, steer the residual
  c.random('model.embed_tokens.weight', [GEMMA3_CFG.vocab_size, d], 0.2);
  for (let i = 0; i < GEMMA3_CFG.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    for (const n of ['input_layernorm', 'pre_feedforward_layernorm']) c.random(`${p}.${n}.weight`, [d], 0.3);
    for (const n of ['post_attention_layernorm', 'post_feedforward_layernorm']) c.random(`${p}.${n}.weight`, [d], 0.5, 0.5);
    c.random(`${p}.self_attn.q_proj.weight`, [H * hd, d], 1);
    c.random(`${p}.self_attn.k_proj.weight`, [KV * hd, d], 1);
    c.random(`${p}.self_attn.v_proj.weight`, [KV * hd, d], 1);
    c.random(`${p}.self_attn.o_proj.weight`, [d, H * hd], 0.6);
    c.random(`${p}.self_attn.q_norm.weight`, [hd], 0.5);
    c.random(`${p}.self_attn.k_norm.weight`, [hd], 0.5);
    c.random(`${p}.mlp.gate_proj.weight`, [f, d], 0.6);
    c.random(`${p}.mlp.up_proj.weight`, [f, d], 0.6);
    c.random(`${p}.mlp.down_proj.weight`, [d, f], 0.5);
  }
  c.random('model.norm.weight', [d], 0.5, 3); // lens logits reach the soft-cap
  c.save(dir, GEMMA3_CFG);
  return c;
}

export const GRANITE_CFG = {
  architectures: ['GraniteForCausalLM'],
  model_type: 'granite',
  vocab_size: 72,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 3,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rope_theta: 10000,
  rms_norm_eps: 1e-6,
  hidden_act: 'silu',
  attention_bias: false,
  mlp_bias: false,
  tie_word_embeddings: false,
  embedding_multiplier: 6,
  attention_multiplier: 0.09,
  residual_multiplier: 0.4,
  logits_scaling: 2.5,
  bos_token_id: 0,
  eos_token_id: 0,
};

export function buildGranite(dir: string): TinyCheckpoint {
  const c = new TinyCheckpoint(2024);
  const { hidden_size: d, intermediate_size: f, num_attention_heads: H, num_key_value_heads: KV } = GRANITE_CFG;
  const hd = d / H;
  c.random('model.embed_tokens.weight', [GRANITE_CFG.vocab_size, d], 0.3);
  c.random('lm_head.weight', [GRANITE_CFG.vocab_size, d], 1);
  c.random('model.norm.weight', [d], 0.2, 1);
  for (let i = 0; i < GRANITE_CFG.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    c.random(`${p}.input_layernorm.weight`, [d], 0.2, 1);
    c.random(`${p}.post_attention_layernorm.weight`, [d], 0.2, 1);
    c.random(`${p}.self_attn.q_proj.weight`, [H * hd, d], 0.8);
    c.random(`${p}.self_attn.k_proj.weight`, [KV * hd, d], 0.8);
    c.random(`${p}.self_attn.v_proj.weight`, [KV * hd, d], 0.8);
    c.random(`${p}.self_attn.o_proj.weight`, [d, H * hd], 0.6);
    c.random(`${p}.mlp.gate_proj.weight`, [f, d], 0.5);
    c.random(`${p}.mlp.up_proj.weight`, [f, d], 0.5);
    c.random(`${p}.mlp.down_proj.weight`, [d, f], 0.5);
  }
  c.save(dir, GRANITE_CFG);
  return c;
}

export const OPT_POSTLN_CFG = {
  architectures: ['OPTForCausalLM'],
  model_type: 'opt',
  vocab_size: 80,
  hidden_size: 32,
  word_embed_proj_dim: 16,
  ffn_dim: 64,
  num_attention_heads: 4,
  num_hidden_layers: 3,
  max_position_embeddings: 32,
  do_layer_norm_before: false,
  _remove_final_layer_norm: false,
  activation_function: 'relu',
  enable_bias: true,
  layer_norm_elementwise_affine: true,
  bos_token_id: 2,
  eos_token_id: 2,
  pad_token_id: 1,
};

export const OPT_PREFIX = 'model.decoder';

export function buildOptPostLn(dir: string): TinyCheckpoint {
  const c = new TinyCheckpoint(99);
  const { hidden_size: d, word_embed_proj_dim: e, ffn_dim: f } = OPT_POSTLN_CFG;
  c.random(`${OPT_PREFIX}.embed_tokens.weight`, [OPT_POSTLN_CFG.vocab_size, e], 1);
  c.random(`${OPT_PREFIX}.project_in.weight`, [d, e], 0.5);
  c.random(`${OPT_PREFIX}.project_out.weight`, [e, d], 0.15);
  c.random(`${OPT_PREFIX}.embed_positions.weight`, [OPT_POSTLN_CFG.max_position_embeddings + 2, d], 0.5);
  for (let i = 0; i < OPT_POSTLN_CFG.num_hidden_layers; i++) {
    const p = `${OPT_PREFIX}.layers.${i}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      c.random(`${p}.self_attn.${n}.weight`, [d, d], 0.5);
      c.random(`${p}.self_attn.${n}.bias`, [d], 0.1);
    }
    for (const n of ['self_attn_layer_norm', 'final_layer_norm']) {
      c.random(`${p}.${n}.weight`, [d], 0.3, 1);
      c.random(`${p}.${n}.bias`, [d], 0.1);
    }
    c.random(`${p}.fc1.weight`, [f, d], 0.5);
    c.random(`${p}.fc1.bias`, [f], 0.1);
    c.random(`${p}.fc2.weight`, [d, f], 0.4);
    c.random(`${p}.fc2.bias`, [d], 0.1);
  }
  c.save(dir, OPT_POSTLN_CFG);
  return c;
}

export const PHI3_LONGROPE_CFG = {
  architectures: ['Phi3ForCausalLM'],
  model_type: 'phi3',
  vocab_size: 80,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  original_max_position_embeddings: 8,
  rope_theta: 10000,
  rope_scaling: { type: 'longrope', short_factor: [1, 1.5, 2, 3], long_factor: [2, 5, 11, 23] },
  rms_norm_eps: 1e-5,
  hidden_act: 'silu',
  sliding_window: null,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
};

export function buildPhi3LongRope(dir: string): TinyCheckpoint {
  const c = new TinyCheckpoint(7);
  const { hidden_size: d, intermediate_size: f, num_attention_heads: H, num_key_value_heads: KV } = PHI3_LONGROPE_CFG;
  const hd = d / H;
  c.random('model.embed_tokens.weight', [PHI3_LONGROPE_CFG.vocab_size, d], 1);
  c.random('lm_head.weight', [PHI3_LONGROPE_CFG.vocab_size, d], 0.3);
  c.random('model.norm.weight', [d], 0.2, 1);
  for (let i = 0; i < PHI3_LONGROPE_CFG.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    c.random(`${p}.input_layernorm.weight`, [d], 0.2, 1);
    c.random(`${p}.post_attention_layernorm.weight`, [d], 0.2, 1);
    c.random(`${p}.self_attn.qkv_proj.weight`, [(H + 2 * KV) * hd, d], 0.6);
    c.random(`${p}.self_attn.o_proj.weight`, [d, H * hd], 0.5);
    c.random(`${p}.mlp.gate_up_proj.weight`, [2 * f, d], 0.5);
    c.random(`${p}.mlp.down_proj.weight`, [d, f], 0.4);
  }
  c.save(dir, PHI3_LONGROPE_CFG);
  return c;
}
