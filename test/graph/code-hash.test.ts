/**
 * The graph code hash (part of every cached graph's file name) covers every module the decoder
 * graph is built from, found by listing its folders: a new graph module cannot be left out.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { graphCodeFiles, graphCodeHash, hashFiles } from '../../src/graph/code-hash.js';

/** Modules reachable from `entry` through relative run-time imports (type-only imports are erased in the compiled JS). */
function runtimeImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  const patterns = [/\b(?:import|export)\s[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g, /\bimport\s*['"](\.{1,2}\/[^'"]+)['"]/g, /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) stack.push(path.resolve(path.dirname(file), m[1]));
  }
  return seen;
}

it('every module the decoder graph imports at run time is part of the graph code hash', () => {
  const entry = fileURLToPath(new URL('../../src/graph/decoder.js', import.meta.url));
  const reachable = runtimeImports(entry);
  assert.ok(reachable.size >= 4, `the decoder and its imports: ${[...reachable].join(', ')}`);
  const hashed = new Set(graphCodeFiles());
  for (const f of reachable) assert.ok(hashed.has(f), `${f} builds graphs but is not in the graph code hash`);
  // the lens head and the architecture files are in it too
  for (const name of ['graph/lens-head.js', 'graph/builder.js', 'models/llama.js', 'models/common.js']) {
    assert.ok([...hashed].some((f) => f.endsWith(path.join(...name.split('/')))), `${name} is hashed`);
  }
  assert.equal(graphCodeHash(), hashFiles(graphCodeFiles()));
});

it('a module added to a hashed folder, or any edit of one, changes the hash', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-code-hash-'));
  try {
    const graph = path.join(tmp, 'graph');
    fs.mkdirSync(graph);
    for (const f of graphCodeFiles()) if (path.basename(path.dirname(f)) === 'graph') fs.copyFileSync(f, path.join(graph, path.basename(f)));
    const before = hashFiles(graphCodeFiles([graph]));
    fs.writeFileSync(path.join(graph, 'attention.js'), 'export const x = 1;\n');
    const added = hashFiles(graphCodeFiles([graph]));
    assert.notEqual(added, before, 'a new module changes the hash');
    fs.appendFileSync(path.join(graph, 'decoder.js'), ' ');
    assert.notEqual(hashFiles(graphCodeFiles([graph])), added, 'an edit changes the hash');
    // files that are not modules (declarations, source maps) do not count
    const now = hashFiles(graphCodeFiles([graph]));
    fs.writeFileSync(path.join(graph, 'attention.d.ts'), 'export declare const x: number;\n');
    fs.writeFileSync(path.join(graph, 'attention.js.map'), '{}');
    assert.equal(hashFiles(graphCodeFiles([graph])), now);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
