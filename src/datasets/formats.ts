/** The format-classification prompts (PROTOCOL §5): every format string × every topic. */
import { UserError } from '../util/errors.js';
import { readRegularFile } from '../util/files.js';

export interface FormatTopics {
  formats: string[];
  topics: string[];
}

export interface FormatPrompt {
  /** The class label: the format string as the reference stores it (e.g. "Write a poem about "). */
  format: string;
  topic: string;
  prompt: string;
}

async function loadTopics(file: string): Promise<FormatTopics> {
  const text = await readRegularFile(file, 'format/topic list');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UserError(`Cannot read the format/topic list ${file} (${(err as Error).message}).`);
  }
  const p = parsed as Partial<FormatTopics>;
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!isStrings(p.formats) || !isStrings(p.topics)) {
    throw new UserError(`${file} must be {"formats": [strings], "topics": [strings]}.`);
  }
  return { formats: p.formats, topics: p.topics };
}

/** PROTOCOL §5: every format × every topic, format-major, prompt = format string + topic, no chat template. */
export async function formatPrompts(topicsFile: string | FormatTopics): Promise<FormatPrompt[]> {
  const spec = typeof topicsFile === 'string' ? await loadTopics(topicsFile) : topicsFile;
  const out: FormatPrompt[] = [];
  for (const format of spec.formats) for (const topic of spec.topics) out.push({ format, topic, prompt: format + topic });
  return out;
}
