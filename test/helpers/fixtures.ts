import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared next to the project root (the folder CI and sessions provide), or $ENTROPYLENS_SHARED. */
export function sharedDir(): string {
  if (process.env.ENTROPYLENS_SHARED) return process.env.ENTROPYLENS_SHARED;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/test/helpers → project root is three levels up
  return path.resolve(here, '..', '..', '..', '..', 'shared');
}

export const PARITY_DIR = path.join(sharedDir(), 'fixtures', 'hf-parity');

export interface GoldenPrompt {
  input_ids: number[];
  generated_ids: number[];
  full_sequence: number[];
  entropy: number[][];
  renyi: Record<string, number[][]>;
  lens_argmax: number[][];
  final_top5_ids: number[][];
  final_top5_logprobs: number[][];
}

export interface ExtrasPrompt {
  input_ids: number[];
  generated_ids: number[];
  metrics: Record<string, number[][]>;
  interventions: Record<string, { generated_ids: number[]; shannon: number[][] }>;
}

export interface CaseInfo {
  case: string;
  architecture: string;
  num_layers: number;
  vocab_size: number;
}

export function parityCases(): CaseInfo[] {
  return JSON.parse(fs.readFileSync(path.join(PARITY_DIR, 'index.json'), 'utf8')).cases;
}

export function golden(name: string): { prompts: GoldenPrompt[] } {
  return JSON.parse(fs.readFileSync(path.join(PARITY_DIR, name, 'golden.json'), 'utf8'));
}

export function extras(name: string): { prompts: ExtrasPrompt[]; anchor_ids: number[]; metric_names: string[] } {
  return JSON.parse(fs.readFileSync(path.join(PARITY_DIR, name, 'extras.json'), 'utf8'));
}
