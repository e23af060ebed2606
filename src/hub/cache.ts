import { copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { repoFolderName, type RepoType } from './env.js';

/**
 * The hub cache layout shared with Python's huggingface_hub:
 *   {cache}/{type}s--{owner}--{name}/blobs/{etag}
 *   {cache}/{type}s--{owner}--{name}/snapshots/{commit}/{path}  -> relative symlink to the blob
 *   {cache}/{type}s--{owner}--{name}/refs/{revision}           -> the commit hash, no newline
 * Files written here are found by transformers/datasets and vice versa.
 */
export class RepoCache {
  readonly root: string;

  constructor(cacheDir: string, readonly type: RepoType, readonly repoId: string) {
    this.root = join(cacheDir, repoFolderName(type, repoId));
  }

  blobPath(etag: string): string {
    return join(this.root, 'blobs', etag);
  }

  snapshotDir(commit: string): string {
    return join(this.root, 'snapshots', commit);
  }

  /** The commit a revision points to in the cache, or undefined when the cache has never seen it. */
  async commitFor(revision: string): Promise<string | undefined> {
    try {
      const ref = (await readFile(join(this.root, 'refs', revision), 'utf8')).trim();
      if (ref) return ref;
    } catch {
      // no ref written for this revision
    }
    if (/^[0-9a-f]{40}$/.test(revision) && (await exists(this.snapshotDir(revision)))) return revision;
    return undefined;
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const path = join(this.root, 'refs', revision);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, commit);
  }

  /** Point snapshots/{commit}/{path} at the blob; a copy where symlinks are not allowed (as Python does on Windows). */
  async linkSnapshot(commit: string, path: string, blob: string): Promise<string> {
    const pointer = join(this.snapshotDir(commit), path);
    await mkdir(dirname(pointer), { recursive: true });
    await rm(pointer, { force: true });
    try {
      await symlink(relative(dirname(pointer), blob), pointer);
    } catch {
      await copyFile(blob, pointer);
    }
    return pointer;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Relative paths (with `/`) of every file under a folder whose target exists; dangling links are skipped. */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(sub: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(dir, sub), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) await walk(rel);
      else if (e.isFile()) out.push(rel);
      else if (e.isSymbolicLink()) {
        try {
          const s = await stat(join(dir, rel));
          if (s.isFile()) out.push(rel);
          else if (s.isDirectory()) await walk(rel);
        } catch {
          // dangling link: the blob was deleted, treat the file as absent
        }
      }
    }
  }
  await walk('');
  return out.sort();
}
