/** The samples of the four protocol experiments (PROTOCOL §2–§5), with their labels and ids. */
import { isCorrect, extractAnswer } from '../datasets/answer.js';
import { formatNames, type FormatPrompt } from '../datasets/formats.js';
import { mmluPrompts, type MmluPromptType, type MmluRow } from '../datasets/mmlu.js';
import { tinystoriesPrompts, type TinyStory } from '../datasets/tinystories.js';
import type { LensModel } from '../lens/model.js';
import { UserError } from '../util/errors.js';
import type { ExperimentSample, Labels } from './runner.js';

/** §3: 24 prompts per story; label `task` (the group) and `prompt_type`. */
export function tinystoriesSamples(stories: TinyStory[], opts: { seed: number; referenceQuirks: boolean }): ExperimentSample[] {
  return tinystoriesPrompts(stories, { seed: opts.seed, referenceQuirks: opts.referenceQuirks }).map((p, i) => ({
    sampleId: `story${p.storyIndex}:${p.promptType}`,
    prompt: p.prompt,
    stream: i,
    index: i,
    labels: { prompt_type: p.promptType, task: p.task, variant: p.variant, story_index: p.storyIndex },
  }));
}

/** §4: one prompt per question; correctness is labelled after generation by `mmluFinish`. */
export function mmluSamples(rows: MmluRow[], promptType: MmluPromptType): ExperimentSample[] {
  return mmluPrompts(rows, promptType).map((p) => ({
    sampleId: `q${p.index}:${promptType}`,
    prompt: p.prompt,
    stream: p.index,
    index: p.index,
    labels: { subject: p.subject, prompt_type: promptType, answer: p.gold, question_index: p.index },
    // the prompt ends in "Answer: ", so the gold letter's own token is the answer's
    target: p.gold,
  }));
}

export function mmluFinish(referenceQuirks: boolean): (s: ExperimentSample, completion: string) => Labels {
  return (s, completion) => {
    const gold = String(s.labels.answer);
    const text = referenceQuirks ? s.prompt + completion : completion;
    return {
      extracted: extractAnswer(text, { referenceQuirks }),
      correct: isCorrect(s.prompt, completion, gold, { referenceQuirks }),
    };
  };
}

/** §5: every format × topic; labels `format` (its name: "poem"), `format_prompt` (the prefix as given) and `topic`. */
export function formatSamples(prompts: FormatPrompt[]): ExperimentSample[] {
  const names = formatNames([...new Set(prompts.map((p) => p.format))]);
  return prompts.map((p, i) => ({
    sampleId: `f${i}`,
    prompt: p.prompt,
    stream: i,
    index: i,
    labels: { format: names.get(p.format)!, format_prompt: p.format.trim(), topic: p.topic },
  }));
}

/**
 * §2: the tokenizer's BOS token alone, with the prepended BOS: [BOS, BOS]. Tokenizers without a BOS
 * token use EOS in its place (as TransformerLens does).
 */
export function familySamples(model: LensModel, modelName: string, n: number, offset: number): ExperimentSample[] {
  const bos = model.tokenizer?.bosId ?? model.spec.bosTokenId ?? model.tokenizer?.eosIds[0] ?? model.spec.eosTokenIds[0];
  if (bos === undefined) throw new UserError(`${model.dir}: neither the tokenizer nor config.json names a BOS or EOS token; the families experiment prompts with BOS`);
  const text = model.tokenText(bos) ?? '';
  return Array.from({ length: n }, (_, i) => ({
    sampleId: familySampleId(modelName, i),
    prompt: text,
    ids: [bos, bos],
    stream: offset + i,
    index: offset + i,
    labels: { family: familyOf(modelName, model.spec.modelType), model_type: model.spec.modelType, n_params: model.parameterCount, n_layers_model: model.spec.nLayers },
  }));
}

/** The id of the i-th families sample of a model (known before the model loads, for sharding and resuming). */
export function familySampleId(modelName: string, i: number): string {
  return `${modelName}:${i}`;
}

/** A family name from a hub id or folder name: gpt2-medium → gpt2, Llama-3.2-1B → llama, … */
export function familyOf(modelName: string, modelType: string): string {
  const base = modelName.split('/').pop()!.toLowerCase();
  for (const f of ['gpt2', 'pythia', 'llama', 'gemma-2', 'gemma', 'qwen3', 'qwen2.5', 'qwen2', 'qwen', 'phi', 'opt', 'bloom', 'mistral', 'falcon', 'gpt-neo', 'stablelm']) {
    if (base.startsWith(f) || base.includes(`-${f}`) || base.includes(f)) return f;
  }
  return modelType;
}
