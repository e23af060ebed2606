/**
 * Token strings for stored token ids: the viewer finds the tokenizer of a dataset's model (the
 * folder it names, the Hugging Face cache, offline) and decodes each id once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TextTokenizer } from '../tokenizer/index.js';

export class TokenDecoder {
  private readonly cache = new Map<number, string>();
  private constructor(
    private readonly tokenizer: TextTokenizer,
    /** The folder the tokenizer came from. */
    readonly dir: string,
  ) {}

  /** The decoder of a model folder, or undefined when it has no tokenizer.json. */
  static fromDir(dir: string): TokenDecoder | undefined {
    const t = TextTokenizer.load(dir);
    return t ? new TokenDecoder(t, dir) : undefined;
  }

  /** One token as text (as `profile` prints it). */
  text(id: number): string {
    let s = this.cache.get(id);
    if (s === undefined) {
      s = this.tokenizer.decode([id]);
      this.cache.set(id, s);
    }
    return s;
  }
}

/**
 * The tokenizer of the model a dataset names: a folder (absolute, or relative to the current
 * folder or to the dataset's parent folders), else a hub id already in the HF cache (never
 * downloaded here). Undefined when none is found: the viewer then shows ids.
 */
export async function findTokenizer(model: string, datasetPath: string): Promise<TokenDecoder | undefined> {
  if (!model) return undefined;
  const candidates = path.isAbsolute(model) ? [model] : [path.resolve(model)];
  // A run started in another folder stored its --model relative to that folder: try the dataset's ancestors.
  if (!path.isAbsolute(model)) for (let d = path.dirname(datasetPath); d !== path.dirname(d); d = path.dirname(d)) candidates.push(path.join(d, model));
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'tokenizer.json'))) return TokenDecoder.fromDir(dir);
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(model)) return undefined;
  try {
    const { resolveModelDir } = await import('../hub/index.js');
    return TokenDecoder.fromDir(await resolveModelDir(model, { offline: true }));
  } catch {
    return undefined;
  }
}
