/**
 * Trains the demo model's tokenizer: a byte-level BPE (GPT-2 style, so every string round-trips
 * and nothing is ever unknown) on the generated corpus, written as a Hugging Face
 * `tokenizer.json` + `tokenizer_config.json` that @huggingface/tokenizers (and the Rust/Python
 * `tokenizers`) load. Digits are split one per token so that word counts are spelled digit by
 * digit. `<s>` (BOS, id 1) is prepended by the post-processor, as Llama tokenizers do.
 */
import { Tokenizer } from '@huggingface/tokenizers';

export const SPECIAL_TOKENS = ['<unk>', '<s>', '</s>', '<pad>'] as const;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const PAD_ID = 3;

/** GPT-2's reversible byte → printable character table (bytes that print stay themselves). */
function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = keep.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function tokenizerFiles(vocab: Map<string, number>, merges: [string, string][], maxLength: number): TokenizerFiles {
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, i) => addedToken(i, t)),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [BOS_ID], tokens: ['<s>'] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  const tokenizerConfig = {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: Object.fromEntries(SPECIAL_TOKENS.map((t, i) => {
      const { id: _id, ...rest } = addedToken(i, t);
      return [String(i), rest];
    })),
    bos_token: '<s>',
    // Cleaning would turn " ." into "." and break round trips of scrambled stories.
    clean_up_tokenization_spaces: false,
    eos_token: '</s>',
    model_max_length: maxLength,
    pad_token: '<pad>',
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: '<unk>',
  };
  return { tokenizerJson, tokenizerConfig };
}

export interface BpeOptions {
  /** Total vocabulary size including the special tokens and the 256 bytes. */
  vocabSize: number;
  /** Pairs seen fewer times than this are not merged. */
  minFrequency: number;
  maxLength: number;
}

/**
 * Classic BPE training: repeatedly merge the most frequent adjacent pair of symbols inside the
 * pre-tokens (ties broken by the pair's text, so the result is deterministic).
 */
export function trainByteLevelBpe(texts: readonly string[], opts: BpeOptions): TokenizerFiles {
  const byteChars = bytesToUnicode();
  const vocab = new Map<string, number>();
  SPECIAL_TOKENS.forEach((t, i) => vocab.set(t, i));
  for (const c of byteChars) vocab.set(c, vocab.size);

  // Pre-tokenize with the library itself, so training sees exactly what encoding will see.
  const base = tokenizerFiles(vocab, [], opts.maxLength);
  const preTokenizer = new Tokenizer(base.tokenizerJson, base.tokenizerConfig).pre_tokenizer;
  if (!preTokenizer) throw new Error('tokenizer without a pre-tokenizer');
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of preTokenizer.pre_tokenize(text)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  const words = [...counts].map(([w, n]) => ({ symbols: Array.from(w), n }));

  // Runs of whitespace are never merged: the pre-tokenizer cuts "\n\n" into one piece before a
  // digit or at the end of a prompt but into two before a word, and a merged "\n\n" token would
  // then tell the model that a number follows.
  const whitespace = new Set([' ', '\n', '\t', '\r'].map((c) => byteChars[c.charCodeAt(0)] as string));
  const isSpace = (sym: string): boolean => Array.from(sym).every((c) => whitespace.has(c));
  const merges: [string, string][] = [];
  while (vocab.size < opts.vocabSize) {
    const pairCounts = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        if (isSpace(w.symbols[i] as string) && isSpace(w.symbols[i + 1] as string)) continue;
        const key = `${w.symbols[i]} ${w.symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + w.n);
      }
    }
    let best = '';
    let bestN = 0;
    for (const [key, n] of pairCounts) {
      if (n > bestN || (n === bestN && key < best)) {
        best = key;
        bestN = n;
      }
    }
    if (bestN < opts.minFrequency) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    vocab.set(a + b, vocab.size);
    for (const w of words) {
      const s = w.symbols;
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) s.splice(i, 2, a + b);
      }
    }
  }
  return tokenizerFiles(vocab, merges, opts.maxLength);
}
