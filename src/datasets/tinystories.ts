/** TinyStories and the task-identification prompts built from each story (PROTOCOL §3). */
import { UserError } from '../util/errors.js';
import { mulberry32, shuffled, type Rng } from '../util/rng.js';
import { readDataFiles } from './readers.js';
import { resolveSourceFiles, type DatasetSpec, type LoadOptions } from './source.js';

export const TINYSTORIES: DatasetSpec = { repo: 'roneneldan/TinyStories', split: 'validation' };

/** The six task prompts of PROTOCOL §3, in the reference's order; the group is the key's prefix. */
export const TINYSTORIES_TASKS: readonly { key: string; text: string }[] = [
  { key: 'continuation_prompt_1', text: 'How can the story be continued?' },
  { key: 'continuation_prompt_2', text: 'Which could be a continuation of the story?' },
  { key: 'counting_prompt_1', text: 'How many words are in the story?' },
  { key: 'counting_prompt_2', text: 'Count the number of words in the story.' },
  { key: 'semantic_prompt_1', text: 'What is the main idea of the story?' },
  { key: 'semantic_prompt_2', text: 'Who is the subject of the story?' },
];

export type TinyStoriesVariant = 'base' | 'rev' | 'scramble' | 'scramble_rev';

export interface TinyStory {
  text: string;
}

export interface TinyStoriesPrompt {
  storyIndex: number;
  /** `{task key}_{variant}`, e.g. `counting_prompt_1_scramble`. */
  promptType: string;
  /** The class label: the task group (continuation / counting / semantic). */
  task: string;
  taskKey: string;
  variant: TinyStoriesVariant;
  prompt: string;
}

export interface TinyStoriesPromptOptions {
  /** Random source for the scrambles; or give `seed`. */
  rng?: Rng;
  seed?: number;
  /** Reproduce the reference's accumulating scramble (see below). */
  referenceQuirks?: boolean;
  /** Prompts longer than this many characters (Unicode code points, as Python's len) are skipped. */
  maxChars?: number;
}

/** Python's len(): code points, not UTF-16 units. */
export function pythonLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The story's words (split on single spaces, so runs of spaces give empty words) shuffled and re-joined. */
export function scrambleStory(story: string, rng: Rng): string {
  return shuffled(story.split(' '), rng).join(' ');
}

function prompt(variant: TinyStoriesVariant, story: string, task: string): string {
  return variant === 'base' || variant === 'scramble' ? `${story}\n\n${task}\n\n` : `${task}\n\n${story}\n\n`;
}

/**
 * The 24 prompts per story of PROTOCOL §3, in the reference's order: for each task, `base`, `rev`,
 * then one scramble shared by `scramble` and `scramble_rev`.
 *
 * Intended behaviour: each task scrambles a fresh copy of the original story.
 * With `referenceQuirks`: the reference overwrites the story with its scrambled version, so each task
 * scrambles the previous task's scramble, and from the second task on `base`/`rev` also show an
 * already-scrambled story.
 *
 * Skipped prompts (over `maxChars`) still consume their scramble, as in the reference, so the random
 * stream (and the other prompts) do not depend on the limit.
 */
export function tinystoriesPrompts(stories: readonly (string | TinyStory)[], opts: TinyStoriesPromptOptions = {}): TinyStoriesPrompt[] {
  const rng = opts.rng ?? mulberry32(opts.seed ?? 42);
  const maxChars = opts.maxChars ?? 1500;
  const out: TinyStoriesPrompt[] = [];
  stories.forEach((s, storyIndex) => {
    const original = typeof s === 'string' ? s : s.text;
    let story = original;
    for (const task of TINYSTORIES_TASKS) {
      const group = task.key.slice(0, task.key.indexOf('_'));
      const emit = (variant: TinyStoriesVariant, text: string): void => {
        const p = prompt(variant, text, task.text);
        if (pythonLength(p) > maxChars) return;
        out.push({ storyIndex, promptType: `${task.key}_${variant}`, task: group, taskKey: task.key, variant, prompt: p });
      };
      emit('base', story);
      emit('rev', story);
      const scrambled = scrambleStory(opts.referenceQuirks ? story : original, rng);
      if (opts.referenceQuirks) story = scrambled;
      emit('scramble', scrambled);
      emit('scramble_rev', scrambled);
    }
  });
  return out;
}

/** First stories of the TinyStories validation split from a file, a folder, or the hub (default roneneldan/TinyStories). */
export async function loadTinyStories(source?: string, opts: LoadOptions = {}): Promise<TinyStory[]> {
  const files = await resolveSourceFiles(source, TINYSTORIES, opts);
  const parts = await readDataFiles(files, opts.limit !== undefined ? { limit: opts.limit } : {});
  const out: TinyStory[] = [];
  for (const part of parts) {
    if (!part.columns.includes('text')) {
      throw new UserError(`${part.file} has no "text" column (columns found: ${part.columns.join(', ') || 'none'}): TinyStories files need one story per row in "text".`);
    }
    part.rows.forEach((row, i) => {
      if (typeof row['text'] !== 'string') {
        throw new UserError(`${part.file}: row ${i} has a "text" that is not a string (${JSON.stringify(row['text'])}).`);
      }
      out.push({ text: row['text'] });
    });
  }
  return out;
}
