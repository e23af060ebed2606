/** The Hugging Face hub cache layout (blobs, snapshots, refs), shared with Python's huggingface_hub. */
import { copyFile, mkdir, readdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { UserError } from '../util/errors.js';
import { isRepoId, repoFolderName, type RepoType } from './env.js';
import { assertInside, checkRepoPath, checkRevision, isCommitHash } from './paths.js';

/**
 * The hub cache layout shared with Python's huggingface_hub:
 *   {cache}/{type}s--{owner}--{name}/blobs/{etag}
 *   {cache}/{type}s--{owner}--{name}/snapshots/{commit}/{path}  -> relative symlink to the blob
 *   {cache}/{type}s--{owner}--{name}/refs/{revision}           -> the commit hash, no newline
 * Files written here are found by transformers/datasets and vice versa.
 */
export class RepoCache {
  readonly root: string;

  /**
   * Every path below is built from strings that may come from a server (etag, commit, file name) or
   * the command line (revision, repo id); each is checked before it is joined, and the result must
   * stay inside its folder of the cache (src/hub/paths.ts).
   */
  constructor(cacheDir: string, readonly type: RepoType, readonly repoId: string) {
    if (!isRepoId(repoId)) throw new UserError(`${JSON.stringify(repoId)} is not a hub repo id (owner/name, letters, digits, '-', '_', '.').`);
    this.root = join(cacheDir, repoFolderName(type, repoId));
  }

  blobPath(etag: string): string {
    if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(etag)) throw new UserError(`${JSON.stringify(etag)} is not a blob name (a sha1 or sha256 in hex).`);
    return join(this.root, 'blobs', etag);
  }

  snapshotDir(commit: string): string {
    if (!isCommitHash(commit)) throw new UserError(`${JSON.stringify(commit)} is not a 40-hex commit hash.`);
    return join(this.root, 'snapshots', commit);
  }

  /** snapshots/{commit}/{path} for a repo file name, checked to stay inside the snapshot. */
  pointerPath(commit: string, path: string): string {
    const dir = this.snapshotDir(commit);
    return assertInside(dir, join(dir, checkRepoPath(path, `The file name for ${this.repoId}`)));
  }

  private refPath(revision: string): string {
    const refs = join(this.root, 'refs');
    return assertInside(refs, join(refs, checkRevision(revision)));
  }

  /**
   * The commit a revision points to in the cache, or undefined when the cache has never seen it.
   * A ref that does not hold a commit hash (edited, or written by a broken client) counts as absent.
   */
  async commitFor(revision: string): Promise<string | undefined> {
    try {
      const ref = (await readFile(this.refPath(revision), 'utf8')).trim();
      if (isCommitHash(ref)) return ref;
    } catch (err) {
      if (err instanceof UserError) throw err;
      // no ref written for this revision
    }
    if (isCommitHash(revision) && (await exists(this.snapshotDir(revision)))) return revision;
    return undefined;
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const path = this.refPath(revision);
    if (!isCommitHash(commit)) throw new UserError(`${JSON.stringify(commit)} is not a 40-hex commit hash.`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, commit);
  }

  /** Point snapshots/{commit}/{path} at the blob; a copy where symlinks are not allowed (as Python does on Windows). */
  async linkSnapshot(commit: string, path: string, blob: string): Promise<string> {
    const pointer = this.pointerPath(commit, path);
    assertInside(join(this.root, 'blobs'), blob);
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

/**
 * Relative paths (with `/`) of every regular file under a folder, following symlinks; dangling links,
 * FIFOs, devices and sockets are skipped. Each directory is entered once, by its real path: a link
 * back to an ancestor (`loop -> .`) or a second link to a folder already walked adds nothing, so no
 * file is listed twice through directory links and no cycle is followed.
 */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entered = new Set<string>();
  async function walk(sub: string): Promise<void> {
    const abs = join(dir, sub);
    let entries;
    try {
      const real = await realpath(abs);
      if (entered.has(real)) return;
      entered.add(real);
      entries = await readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
          // dangling link (the blob was deleted, treat the file as absent), or a link cycle (ELOOP)
        }
      }
    }
  }
  await walk('');
  return out.sort();
}
