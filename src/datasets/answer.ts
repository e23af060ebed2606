/**
 * Answer-letter extraction for MMLU completions (PROTOCOL §4): upper-case, a bare letter, else the
 * first of the phrasings below that matches (in list order, not text order), else a letter that
 * occurs exactly once, else null (counted as incorrect).
 */

export type AnswerLetter = 'A' | 'B' | 'C' | 'D';

/** The letter slot: optionally wrapped as **B, (B), [B]; never the first letter of a word (`ANSWER: BECAUSE`). */
const X = String.raw`(?:\*\*|\(|\[)?([A-D])(?![A-Z0-9_])`;
const SEP = String.raw`\s*[:\-]?\s*`;
/** For soft phrasings ("THEREFORE, A"): the letter must end its clause, so "THEREFORE, A CAT …" is no answer. */
const XE = String.raw`${X}(?=[.,;:!?)\]*]|[ \t]*(?:\n|$))`;

interface AnswerPattern {
  re: RegExp;
  /**
   * Matches the layout of the prompt's own choice list (`A. …` at a line start). The reference has no
   * such pattern; run over prompt + completion (the quirk) it would always find choice A, so the
   * quirk mode leaves these out.
   */
  layout?: boolean;
}

const p = (source: string, flags = ''): AnswerPattern => ({ re: new RegExp(source, flags) });

const PATTERNS: readonly AnswerPattern[] = [
  // Explicit statements of the answer.
  p(String.raw`\bFINAL ANSWER(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bTHE CORRECT ANSWER(?:\s+IS|\s+WOULD BE|\s+SHOULD BE)?${SEP}${X}`),
  p(String.raw`\bCORRECT ANSWER(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bTHE RIGHT ANSWER(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bRIGHT ANSWER(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bTHE BEST ANSWER(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bMY ANSWER(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bTHE ANSWER(?:\s+IS|\s+WOULD BE|\s+SHOULD BE|\s+MUST BE)${SEP}${X}`),
  p(String.raw`\bANSWER IS${SEP}${X}`),
  p(String.raw`\bANSWER\s*:\s*${X}`),
  p(String.raw`\bANSWER\s*-\s*${X}`),
  p(String.raw`\bANSWER\s*=\s*${X}`),
  // The letter, then a verdict.
  p(String.raw`${X}\)?\s+IS THE CORRECT (?:ANSWER|OPTION|CHOICE)`),
  p(String.raw`${X}\)?\s+IS THE RIGHT (?:ANSWER|OPTION|CHOICE)`),
  p(String.raw`${X}\)?\s+IS THE (?:BEST )?ANSWER`),
  p(String.raw`${X}\)?\s+IS (?:CORRECT|RIGHT|TRUE)\b`),
  // Options and choices.
  p(String.raw`\bTHE CORRECT (?:OPTION|CHOICE)(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bCORRECT (?:OPTION|CHOICE)(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bTHE (?:OPTION|CHOICE)(?:\s+IS)${SEP}${X}`),
  p(String.raw`\bMY (?:CHOICE|SELECTION|PICK)(?:\s+IS)?${SEP}${X}`),
  p(String.raw`\bI(?:\s+WOULD|\s+WILL|'D|'LL)?\s+(?:CHOOSE|SELECT|PICK)(?:\s+OPTION|\s+CHOICE|\s+ANSWER)?${SEP}${X}`),
  p(String.raw`\b(?:CHOOSING|SELECTING|PICKING)(?:\s+OPTION|\s+CHOICE)?${SEP}${X}`),
  p(String.raw`\b(?:I(?:'M| AM)|LET'S|I(?:'LL| WILL))\s+GO(?:ING)?\s+WITH(?:\s+OPTION|\s+CHOICE)?${SEP}${X}`),
  p(String.raw`\bGO(?:ING)? WITH(?:\s+OPTION|\s+CHOICE)?${SEP}${X}`),
  p(String.raw`\bOPTION${SEP}${X}`),
  p(String.raw`\bCHOICE${SEP}${X}`),
  p(String.raw`\bLETTER${SEP}${X}`),
  p(String.raw`\b(?:RESPONSE|REPLY|SOLUTION|OUTPUT|RESULT)\s*:\s*${X}`),
  p(String.raw`\bMY (?:RESPONSE|REPLY) IS${SEP}${X}`),
  // Beliefs and conclusions.
  p(String.raw`\bI (?:THINK|BELIEVE|GUESS|WOULD SAY|SAY)(?: THAT)?(?: THE ANSWER IS| IT IS| IT'S)?${SEP}${XE}`),
  p(String.raw`\bI CONCLUDE(?: THAT)?${SEP}${XE}`),
  p(String.raw`\bIT(?:'S| IS| MUST BE| SHOULD BE| WOULD BE)${SEP}${XE}`),
  p(String.raw`\b(?:MUST|SHOULD|WOULD) BE${SEP}${XE}`),
  p(String.raw`\b(?:DEFINITELY|CERTAINLY|CLEARLY|OBVIOUSLY)${SEP}${XE}`),
  p(String.raw`\bTHEREFORE,?${SEP}${XE}`),
  p(String.raw`\bTHUS,?${SEP}${XE}`),
  p(String.raw`\bHENCE,?${SEP}${XE}`),
  p(String.raw`\bSO,\s*${XE}`),
  p(String.raw`\bSO THE ANSWER IS${SEP}${X}`),
  // Notation.
  p(String.raw`=\s*${X}`),
  p(String.raw`(?:→|->|=>)\s*${X}`),
  p(String.raw`\(([A-D])\)`),
  p(String.raw`\[([A-D])\]`),
  p(String.raw`\*\*([A-D])(?![A-Z0-9_])`),
  p(String.raw`\{([A-D])\}`),
  p(String.raw`\\BOXED\{([A-D])`),
  // A choice written as in the list: a letter opening a line, then `.`, `)` or `:`; or alone on a line.
  { re: /^\s*([A-D])\s*[.):](?:\s|$)/m, layout: true },
  { re: /^\s*([A-D])\s*$/m, layout: true },
  // "B)" or "B." after a space, e.g. "… so B) seems right".
  { re: /(?:^|\s)([A-D])\)/, layout: true },
];

export interface ExtractOptions {
  /**
   * The reference's fallback: count every occurrence of the character (so the A in "CAT" counts), and
   * leave out the choice-layout patterns the reference lacks (see AnswerPattern.layout).
   */
  referenceQuirks?: boolean;
}

export const ANSWER_PATTERN_COUNT = PATTERNS.length;

export function extractAnswer(text: string, opts: ExtractOptions = {}): AnswerLetter | null {
  const t = text.toUpperCase().trim();
  if (t === 'A' || t === 'B' || t === 'C' || t === 'D') return t;
  for (const pattern of PATTERNS) {
    if (opts.referenceQuirks && pattern.layout) continue;
    const m = pattern.re.exec(t);
    if (m) return m[1] as AnswerLetter;
  }
  for (const letter of ['A', 'B', 'C', 'D'] as const) {
    const count = opts.referenceQuirks
      ? t.split(letter).length - 1
      : (t.match(new RegExp(String.raw`(?<![A-Z0-9_])${letter}(?![A-Z0-9_])`, 'g')) ?? []).length;
    if (count === 1) return letter;
  }
  return null;
}

export interface CorrectnessOptions {
  /** The reference runs the extractor over prompt + completion (see extractAnswer's quirk too). */
  referenceQuirks?: boolean;
}

/** Whether a completion answers `gold` (an index 0–3 or a letter). */
export function isCorrect(prompt: string, completion: string, gold: number | string, opts: CorrectnessOptions = {}): boolean {
  const goldLetter = typeof gold === 'number' ? String.fromCharCode(65 + gold) : gold.toUpperCase();
  const text = opts.referenceQuirks ? prompt + completion : completion;
  return extractAnswer(text, { referenceQuirks: Boolean(opts.referenceQuirks) }) === goldLetter;
}
