/**
 * A digest of the code that builds decoder graphs, part of every cached graph file's name, so that
 * a graph built by other code is never reused. It covers every JavaScript module of graph/ (this
 * folder: builder, decoder, lens head, norms, …) and of models/ (which turn config.json into the
 * spec and name the weights the graph reads), found by listing the folders: a module added there is
 * covered without anyone remembering to add it. test/graph/code-hash.test.ts checks that every
 * module the decoder imports at run time is among them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders whose modules are hashed, relative to this one. */
const FOLDERS = ['.', '../models'];

/** The modules hashed: every .js file of the folders (as shipped, compiled), sorted by path. */
export function graphCodeFiles(roots: string[] = FOLDERS.map((f) => fileURLToPath(new URL(`${f}/`, import.meta.url)))): string[] {
  const out: string[] = [];
  for (const root of roots) {
    for (const f of fs.readdirSync(root)) if (f.endsWith('.js')) out.push(path.join(root, f));
  }
  return out.sort();
}

/** sha256 over the files' names (relative to their folder) and contents. */
export function hashFiles(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${path.basename(path.dirname(f))}/${path.basename(f)}\0`);
    h.update(fs.readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

let cached: string | undefined;

/** The digest of this installation's graph code (computed once per process). */
export function graphCodeHash(): string {
  cached ??= hashFiles(graphCodeFiles());
  return cached;
}
