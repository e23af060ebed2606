/**
 * Where the tests find their golden values: `test/fixtures/` of this repository (a bare clone has
 * everything; nothing outside the repository is read). Paths are computed, never checked at import,
 * so a test file that needs no fixture cannot fail because one is missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: compiled tests live in dist/test/helpers, sources in test/helpers. */
export const REPO_ROOT = (() => {
  let d = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(d, 'package.json'))) {
    const up = path.dirname(d);
    if (up === d) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
  return d;
})();

/** `test/fixtures/<parts…>` in the repository. */
export function fixturePath(...parts: string[]): string {
  return path.join(REPO_ROOT, 'test', 'fixtures', ...parts);
}

/** Reads a fixture's JSON, naming the file when it is missing or malformed. */
export function readFixtureJson<T>(...parts: string[]): T {
  const file = fixturePath(...parts);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`test fixture ${file} cannot be read (${(e as Error).message}); it is part of the repository — restore it with git`);
  }
  return JSON.parse(text) as T;
}

/** The Hugging Face parity checkpoints (see test/fixtures/hf-parity/README.md). */
export const PARITY_DIR = fixturePath('hf-parity');

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
  weights_dtype: string;
  sharded: boolean;
  files: Record<string, number>;
}

export function parityCases(): CaseInfo[] {
  return readFixtureJson<{ cases: CaseInfo[] }>('hf-parity', 'index.json').cases;
}

export function golden(name: string): { prompts: GoldenPrompt[] } {
  return readFixtureJson('hf-parity', name, 'golden.json');
}

export function extras(name: string): { prompts: ExtrasPrompt[]; anchor_ids: number[]; metric_names: string[] } {
  return readFixtureJson('hf-parity', name, 'extras.json');
}
