/** Argument parsing shared by the CLI commands: numbers with errors that name the option. */
import fs from 'node:fs';
import path from 'node:path';
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

/** A model argument: a local folder, or (when no such folder exists) a Hugging Face hub id. */
export async function resolveModel(arg: string, cacheDir?: string): Promise<string> {
  void cacheDir;
  if (fs.existsSync(arg)) {
    if (!fs.statSync(arg).isDirectory()) throw new UserError(`${arg} is a file; give the model folder that holds config.json`);
    return path.resolve(arg);
  }
  throw new UserError(`model folder ${arg} does not exist`);
}
