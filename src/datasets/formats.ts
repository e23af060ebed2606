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

/**
 * A format's name from its prompt prefix, for labels and legends: the words after the first article
 * and before a trailing preposition ("Write a poem about " → "poem", "Simulate a chat log about " →
 * "chat log", "Write a scientific piece about " → "scientific piece"); the trimmed prefix when it has
 * no such shape. Distinct prefixes that would share a name keep their prefixes.
 */
export function formatName(prefix: string): string {
  const words = prefix.trim().split(/\s+/);
  const art = words.findIndex((w) => /^(a|an|the)$/i.test(w));
  let rest = art >= 0 ? words.slice(art + 1) : words;
  if (rest.length > 1 && /^(about|on|of|for|regarding)$/i.test(rest[rest.length - 1])) rest = rest.slice(0, -1);
  return rest.length > 0 && art >= 0 ? rest.join(' ') : prefix.trim();
}

/** Names for a list of format prefixes, unique: a name two prefixes share falls back to the prefixes. */
export function formatNames(prefixes: readonly string[]): Map<string, string> {
  const names = new Map(prefixes.map((p) => [p, formatName(p)]));
  const count = new Map<string, number>();
  for (const n of names.values()) count.set(n, (count.get(n) ?? 0) + 1);
  for (const [p, n] of names) if ((count.get(n) ?? 0) > 1) names.set(p, p.trim());
  return names;
}
