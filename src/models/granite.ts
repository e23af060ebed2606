/**
 * Granite (GraniteForCausalLM, IBM Granite 3.x): Llama's block with four multipliers —
 * embeddings × embedding_multiplier, scores × attention_multiplier (instead of 1/√d), each
 * sublayer's output × residual_multiplier before its residual add, and logits ÷ logits_scaling
 * (the lens divides every layer's logits too, as it is part of the model's unembedding).
 */
import { known, num } from './common.js';
import { llamaLikeSpec, llamaLikeWeights, type LlamaLikeOptions } from './llama.js';
import type { Architecture } from './types.js';

const opts: LlamaLikeOptions = { modelType: 'granite' };

export const granite: Architecture = {
  modelTypes: ['granite'],
  hfClasses: ['GraniteForCausalLM'],
  features: ['as llama', 'embedding_multiplier', 'attention_multiplier (scores scale)', 'residual_multiplier', 'logits_scaling, in the lens too'],
  checkpoints: [
    known('ibm-granite/granite-3.0-2b-instruct', 40, 2048, 32, 49155, '2.5B', { kvHeads: 8 }),
    known('ibm-granite/granite-3.0-8b-instruct', 40, 4096, 32, 49155, '8.2B', { kvHeads: 8 }),
    known('ibm-granite/granite-3.1-2b-instruct', 40, 2048, 32, 49155, '2.5B', { kvHeads: 8 }),
    known('ibm-granite/granite-3.1-8b-instruct', 40, 4096, 32, 49155, '8.2B', { kvHeads: 8 }),
  ],
  prefixes: ['model.', ''],
  spec(cfg) {
    const spec = llamaLikeSpec(cfg, opts);
    spec.embedScale = num(cfg, 'embedding_multiplier', 1);
    spec.attnScale = num(cfg, 'attention_multiplier', 1);
    spec.residualScale = num(cfg, 'residual_multiplier', 1);
    spec.logitDivisor = num(cfg, 'logits_scaling', 1);
    return spec;
  },
  weights: (spec, r, ckpt) => llamaLikeWeights(spec, r, ckpt, ckpt.config, opts),
};
