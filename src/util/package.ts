/** Where the package is installed: its root and assets/. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json and assets/ are), from src/ or dist/src/. */
export function packageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // …/src/util or …/dist/src/util
  const up = path.resolve(here, '..', '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

export function assetPath(...parts: string[]): string {
  return path.join(packageRoot(), 'assets', ...parts);
}

let version: string | undefined;

/** The version in package.json (what `--version`, results manifests and JSON output report). */
export function packageVersion(): string {
  version ??= String((JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  return version;
}
