/** Bytes on disk under a folder (the weight caches the benchmarks report), shared by the benchmarks. */
import fs from 'node:fs';
import path from 'node:path';

export function folderBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? folderBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size;
  return n;
}
