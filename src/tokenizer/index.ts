/** The model's tokenizer (tokenizer.json via @huggingface/tokenizers): encode, decode, BOS/EOS ids. */
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../util/errors.js';
import { readRegularFileSync } from '../util/files.js';

/** The model's tokenizer (tokenizer.json + tokenizer_config.json), as entropylens uses it. */
export class TextTokenizer {
  private constructor(
    private readonly tok: Tokenizer,
    /** BOS id when the tokenizer has a BOS token (PROTOCOL §1: prepended to every prompt). */
    readonly bosId: number | undefined,
    readonly eosIds: number[],
    /** One more than the largest id the tokenizer can produce (its model's vocabulary and added tokens). */
    readonly vocabSize: number,
  ) {}

  /**
   * `fallbackBosId` (config.json's bos_token_id) is used when tokenizer_config.json does not say
   * anything about a BOS token: slow-tokenizer classes such as GPT-2's carry their BOS as a class
   * default, so their tokenizer_config.json often omits it. An explicit `"bos_token": null` means
   * none (Qwen).
   */
  static load(dir: string, fallbackBosId?: number): TextTokenizer | undefined {
    const file = path.join(dir, 'tokenizer.json');
    if (!fs.existsSync(file)) return undefined;
    let json: Record<string, unknown>;
    let cfg: Record<string, unknown> = {};
    try {
      json = JSON.parse(readRegularFileSync(file, 'tokenizer'));
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    const cfgFile = path.join(dir, 'tokenizer_config.json');
    if (fs.existsSync(cfgFile)) {
      try {
        cfg = JSON.parse(readRegularFileSync(cfgFile, 'tokenizer config'));
      } catch (err) {
        if (err instanceof UserError) throw err;
        throw new UserError(`${cfgFile} is not valid JSON: ${(err as Error).message}`);
      }
    }
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, cfg);
    } catch (err) {
      throw new UserError(`cannot load ${file}: ${(err as Error).message}`);
    }
    const tokenText = (v: unknown): string | undefined =>
      typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;
    const bosText = tokenText(cfg.bos_token);
    const eosText = tokenText(cfg.eos_token);
    let bosId = bosText !== undefined ? tok.token_to_id(bosText) : undefined;
    if (!('bos_token' in cfg) && fallbackBosId !== undefined && tok.id_to_token(fallbackBosId) !== undefined) bosId = fallbackBosId;
    const eosId = eosText !== undefined ? tok.token_to_id(eosText) : undefined;
    return new TextTokenizer(tok, bosId, eosId !== undefined ? [eosId] : [], vocabSizeOf(json));
  }

  /** Token ids of `text` without any special tokens added. */
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: number[], skipSpecial = false): string {
    return this.tok.decode(ids, { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
  }

  /** Unique token ids of the tokens of `text` (anchors). */
  uniqueIds(text: string): number[] {
    return [...new Set(this.encode(text))];
  }
}

/** One more than the largest token id in tokenizer.json (model vocabulary: a map or Unigram's list; added tokens). */
function vocabSizeOf(json: Record<string, unknown>): number {
  let top = -1;
  const vocab = (json.model as { vocab?: unknown } | undefined)?.vocab;
  if (Array.isArray(vocab)) top = vocab.length - 1;
  else if (vocab && typeof vocab === 'object') for (const id of Object.values(vocab)) if (typeof id === 'number' && id > top) top = id;
  for (const t of Array.isArray(json.added_tokens) ? json.added_tokens : []) {
    const id = (t as { id?: unknown }).id;
    if (typeof id === 'number' && id > top) top = id;
  }
  return top + 1;
}
