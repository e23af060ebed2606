/**
 * Which results datasets the viewer serves: the paths given on the command line, and the datasets
 * found below given folders. Nothing outside them: a symlink that leads out of a given folder is
 * not followed, and each dataset gets a unique name that is the only way to reach it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE } from '../store/index.js';
import { UserError } from '../util/errors.js';

export interface CatalogEntry {
  /** Relative path below the folder given (posix separators), or the base name of a dataset given directly. */
  name: string;
  /** Absolute path of the dataset folder (or lone .parquet file). */
  path: string;
}

/** How deep below a given folder datasets are looked for. */
const MAX_DEPTH = 4;

async function isDataset(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(path.join(dir, MANIFEST_FILE))).isFile();
  } catch {
    return false;
  }
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Datasets below `root` (a real path), not following links that leave it. */
async function walk(root: string, dir: string, depth: number, out: string[]): Promise<void> {
  if (await isDataset(dir)) {
    out.push(dir);
    return;
  }
  if (depth >= MAX_DEPTH) return;
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return; // unreadable folders are skipped, as `find` would
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      await walk(root, full, depth + 1, out);
    } else if (e.isSymbolicLink()) {
      const real = await fs.realpath(full).catch(() => undefined);
      if (!real || !inside(root, real)) continue;
      if ((await fs.stat(real)).isDirectory()) await walk(root, full, depth + 1, out);
    }
  }
}

/** The datasets the arguments name (datasets, .parquet files, or folders holding datasets), with unique names. */
export async function discoverDatasets(args: readonly string[]): Promise<CatalogEntry[]> {
  if (args.length === 0) throw new UserError('give at least one results dataset or a folder of them, e.g. entropylens view results/');
  const found: CatalogEntry[] = [];
  for (const arg of args) {
    const abs = path.resolve(arg);
    let info;
    try {
      info = await fs.stat(abs);
    } catch {
      throw new UserError(`${arg}: no such file or folder (give results datasets, or folders that hold them)`);
    }
    if (info.isFile()) {
      if (!abs.endsWith('.parquet')) throw new UserError(`${arg} is a file but not a .parquet results file`);
      found.push({ name: path.basename(abs), path: abs });
      continue;
    }
    const root = await fs.realpath(abs);
    if (await isDataset(root)) {
      found.push({ name: path.basename(abs), path: root });
      continue;
    }
    const dirs: string[] = [];
    await walk(root, root, 0, dirs);
    if (dirs.length === 0) throw new UserError(`${arg}: no results datasets in it (a dataset is a folder with ${MANIFEST_FILE}), looked ${MAX_DEPTH} folders deep`);
    for (const d of dirs) found.push({ name: path.relative(root, d).split(path.sep).join('/'), path: d });
  }
  // Unique names: a second dataset of the same name gets ~2, ~3, …
  const seen = new Map<string, number>();
  for (const e of found) {
    const n = (seen.get(e.name) ?? 0) + 1;
    seen.set(e.name, n);
    if (n > 1) e.name = `${e.name}~${n}`;
  }
  return found;
}
