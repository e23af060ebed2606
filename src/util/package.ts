/** Where the package is installed: its root and assets/. */
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
