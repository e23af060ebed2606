/** The `profile --json` document's parts (snake_case; the README documents the schema), shared by the CLI and the viewer's live profiling. */
import type { LensModel, ProfileResult } from './model.js';

export function modelJson(model: LensModel): { path: string; model_type: string; n_layers: number; d_model: number; vocab_size: number } {
  return { path: model.dir, model_type: model.spec.modelType, n_layers: model.spec.nLayers, d_model: model.spec.dModel, vocab_size: model.spec.vocabSize };
}

/** One result as `--json` prints it; `text` gives a token id's string. */
export function resultJson(r: ProfileResult, text: (id: number) => string | null): Record<string, unknown> {
  const tokens = (ids: number[][]): (string | null)[][] => ids.map((row) => row.map(text));
  return {
    prompt: r.prompt,
    input_ids: r.inputIds,
    generated_ids: r.generatedIds,
    generated_tokens: r.generatedIds.map(text),
    completion: r.completion,
    metrics: r.metrics,
    ...(r.windows ? { windows: r.windows } : {}),
    argmax: r.argmax,
    argmax_tokens: tokens(r.argmax),
    ...(r.topk ? { topk: { ids: r.topk.ids, tokens: r.topk.ids.map(tokens), probs: r.topk.probs } } : {}),
    ...(r.target
      ? { target: { id: r.target.id, token: text(r.target.id), prob: exps(r.target.logprob), logprob: r.target.logprob, rank: r.target.rank } }
      : {}),
    ...(r.positions
      ? {
          positions: {
            ids: r.positions.ids,
            tokens: r.positions.ids.map(text),
            metrics: r.positions.metrics,
            argmax: r.positions.argmax,
            argmax_tokens: tokens(r.positions.argmax),
            ...(r.positions.topk ? { topk: { ids: r.positions.topk.ids, tokens: r.positions.topk.ids.map(tokens), probs: r.positions.topk.probs } } : {}),
            next_rank: r.positions.nextRank,
            next_prob: exps(r.positions.nextLogprob),
            next_logprob: r.positions.nextLogprob,
          },
        }
      : {}),
  };
}

function exps(rows: number[][]): number[][] {
  return rows.map((row) => row.map(Math.exp));
}

