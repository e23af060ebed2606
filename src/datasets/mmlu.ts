/** MMLU (cais/mmlu) rows and their prompts in the protocol's prompt types (PROTOCOL §4). */
import { UserError } from '../util/errors.js';
import { readDataFiles, type Row } from './readers.js';
import { resolveSourceFiles, type DatasetSpec, type LoadOptions } from './source.js';
import { pythonLength } from './tinystories.js';

export const MMLU: DatasetSpec = { repo: 'cais/mmlu', config: 'all', split: 'test' };

export interface MmluRow {
  question: string;
  subject: string;
  choices: string[];
  /** Index of the correct choice (0 = A). */
  answer: number;
}

import { MMLU_PROMPT_TYPES, type MmluPromptType } from './mmlu-prompt-types.js';

export { MMLU_PROMPT_TYPES, type MmluPromptType };

export interface MmluPrompt extends MmluRow {
  /** Position of the question in the loaded rows (before skipping). */
  index: number;
  promptType: MmluPromptType;
  /** The gold letter, A–D. */
  gold: string;
  prompt: string;
}

export function letterOf(index: number): string {
  return String.fromCharCode(65 + index);
}

/** `A. first\nB. second\n…`, each line ending in a newline. */
export function formatChoices(choices: readonly string[]): string {
  return choices.map((c, i) => `${letterOf(i)}. ${c}\n`).join('');
}

/** The four templates of PROTOCOL §4, with the reference's spelling. */
export function mmluPrompt(row: MmluRow, type: MmluPromptType): string {
  const choices = formatChoices(row.choices);
  const body = `Question: ${row.question}\n\nChoices:\n${choices}`;
  const about = `The following is a multiple choice question about ${row.subject}.`;
  switch (type) {
    case 'base':
      return `Subject: ${row.subject}.\n\n${body}\nAnswer: `;
    case 'instruct':
      return `${about} Reply only with the correct option.\n\n${body}\nAnswer: `;
    case 'thinking':
      return `${about} Reply with a short 1 phrase explaination THEN the correct option.\n\n${body}Explaination: `;
    case 'humble':
      return `${about} Reply only with the correct option, if you are unsure about the answer, reply with a completly random option.\n\n${body}\nAnswer: `;
    default:
      throw new UserError(`Unknown MMLU prompt type ${String(type)}: use one of ${MMLU_PROMPT_TYPES.join(', ')}.`);
  }
}

/** Prompts of one type; questions longer than `maxChars` (code points, as Python's len) are skipped, as the reference does. */
export function mmluPrompts(rows: readonly MmluRow[], promptType: MmluPromptType, opts: { maxChars?: number } = {}): MmluPrompt[] {
  if (!MMLU_PROMPT_TYPES.includes(promptType)) {
    throw new UserError(`Unknown MMLU prompt type ${String(promptType)}: use one of ${MMLU_PROMPT_TYPES.join(', ')}.`);
  }
  const maxChars = opts.maxChars ?? 1000;
  const out: MmluPrompt[] = [];
  rows.forEach((row, index) => {
    if (pythonLength(row.question) > maxChars) return;
    out.push({ ...row, index, promptType, gold: letterOf(row.answer), prompt: mmluPrompt(row, promptType) });
  });
  return out;
}

/** A Python list literal of strings, as pandas writes a list column to CSV: ['a', "b's"]. */
function parsePythonStringList(s: string): string[] | undefined {
  const out: string[] = [];
  let i = s.indexOf('[');
  if (i < 0 || !s.trimEnd().endsWith(']')) return undefined;
  i++;
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
  for (;;) {
    while (i < s.length && /[\s,]/.test(s[i]!)) i++;
    if (s[i] === ']') return out;
    const q = s[i];
    if (q !== "'" && q !== '"') return undefined;
    i++;
    let v = '';
    while (i < s.length && s[i] !== q) {
      if (s[i] === '\\' && i + 1 < s.length) {
        v += escapes[s[i + 1]!] ?? `\\${s[i + 1]}`;
        i += 2;
      } else v += s[i++];
    }
    if (i >= s.length) return undefined;
    i++;
    out.push(v);
  }
}

function toChoices(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') {
    const t = value.trim();
    if (t.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(t);
        if (Array.isArray(parsed)) return parsed.map(String);
      } catch {
        return parsePythonStringList(t);
      }
    }
  }
  return undefined;
}

function toAnswer(value: unknown, nChoices: number): number | undefined {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string') {
    const t = value.trim();
    if (/^\d+$/.test(t)) n = Number(t);
    else if (/^[A-Z]$/i.test(t)) n = t.toUpperCase().charCodeAt(0) - 65;
  }
  return n !== undefined && Number.isInteger(n) && n >= 0 && n < nChoices ? n : undefined;
}

function toMmluRow(row: Row, file: string, i: number): MmluRow {
  let choices = toChoices(row['choices']);
  // Hendrycks' original CSVs have one column per choice.
  if (!choices && row['choices'] === undefined && ['A', 'B', 'C', 'D'].every((k) => k in row)) {
    choices = ['A', 'B', 'C', 'D'].map((k) => String(row[k]));
  }
  if (!choices) throw new UserError(`${file}: row ${i} has "choices" that is not a list of strings (${JSON.stringify(row['choices'])}).`);
  const answer = toAnswer(row['answer'], choices.length);
  if (answer === undefined) {
    throw new UserError(`${file}: row ${i} has answer ${JSON.stringify(row['answer'])}, not an index into its ${choices.length} choices (0-based, as cais/mmlu).`);
  }
  return { question: String(row['question']), subject: String(row['subject']), choices, answer };
}

/** MMLU rows (cais/mmlu columns) from a file, a folder, or the hub (default cais/mmlu, config all, split test). */
export async function loadMmlu(source?: string, opts: LoadOptions = {}): Promise<MmluRow[]> {
  const files = await resolveSourceFiles(source, MMLU, opts);
  const parts = await readDataFiles(files, opts.limit !== undefined ? { limit: opts.limit } : {});
  const out: MmluRow[] = [];
  for (const part of parts) {
    const hasChoices = part.columns.includes('choices') || ['A', 'B', 'C', 'D'].every((k) => part.columns.includes(k));
    const missing = ['question', 'subject', 'answer'].filter((c) => !part.columns.includes(c));
    if (!hasChoices) missing.push('choices');
    if (missing.length > 0) {
      throw new UserError(
        `${part.file} lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (columns found: ${part.columns.join(', ') || 'none'}): MMLU files need question, subject, choices (a list) and answer (the index).`,
      );
    }
    part.rows.forEach((row, i) => out.push(toMmluRow(row, part.file, i)));
  }
  return out;
}
