/** Argument parsing shared by the CLI commands: numbers with errors that name the option. */
import { UserError } from '../util/errors.js';

/** commander collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function numberArg(text: string, option: string, min?: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UserError(`${option} '${text}' is not a number`);
  if (min !== undefined && v < min) throw new UserError(`${option} must be ≥ ${min}, got ${v}`);
  return v;
}

export function intArg(text: string, option: string, min?: number): number {
  const v = numberArg(text, option, min);
  if (!Number.isInteger(v)) throw new UserError(`${option} must be an integer, got ${text}`);
  return v;
}

/**
 * A model argument: a local folder, or a Hugging Face hub id resolved from the HF cache
 * (HF_HOME / HF_HUB_CACHE) or downloaded there with a progress bar.
 */
export async function resolveModel(arg: string): Promise<string> {
  const { resolveModelDir } = await import('../hub/index.js'); // loaded only when a command needs it
  return resolveModelDir(arg);
}
