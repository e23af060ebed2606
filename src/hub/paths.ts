/**
 * Checks on every string a hub (or a file it sent) contributes to a path in the cache: repo file
 * names, ETags, commit hashes and revisions. They run before any file-system call, so a hostile or
 * broken server cannot make entropylens create, overwrite or read anything outside the cache.
 * The rules are huggingface_hub's (no `..` segment, nothing absolute under POSIX or Windows rules,
 * the pointer stays inside its snapshot folder), made strict where the hub's answers are hashes.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UserError } from '../util/errors.js';

const COMMIT = /^[0-9a-f]{40}$/;
/** A git blob sha1 (regular files) or the sha256 of an LFS/Xet file: the only blob names the hub uses. */
const BLOB_ETAG = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function isCommitHash(s: string): boolean {
  return COMMIT.test(s);
}

/** Why a '/'-separated repo path is unsafe to join onto a folder, or undefined when it is safe. */
export function unsafePathReason(p: string): string | undefined {
  if (p.length === 0) return 'it is empty';
  if (p.length > 4096) return 'it is longer than 4096 characters';
  if (p.includes('\0')) return 'it contains a NUL byte';
  if (p.includes('\\')) return 'it contains a backslash';
  if (p.startsWith('/')) return 'it is an absolute path';
  if (/^[A-Za-z]:/.test(p)) return 'it starts with a Windows drive';
  for (const seg of p.split('/')) {
    if (seg === '..') return "it has a '..' segment";
    if (seg === '' || seg === '.') return "it has an empty or '.' segment";
    if (/^[A-Za-z]:/.test(seg)) return 'a segment is a Windows drive';
  }
  return undefined;
}

/**
 * A repo file name (from the tree API, a safetensors index, or the caller) as a safe relative path.
 * `source` says where the name came from, for the message.
 */
export function checkRepoPath(p: unknown, source: string): string {
  if (typeof p !== 'string') throw new UserError(`${source} names a file with a non-string value (${JSON.stringify(p)}): the file is not valid.`);
  const why = unsafePathReason(p);
  if (why) {
    throw new UserError(
      `${source} names the file ${JSON.stringify(p.slice(0, 200))}, which is not a safe relative path (${why}): refusing to use it, nothing was written. The repository (or the server at HF_ENDPOINT) is broken or hostile.`,
    );
  }
  return p;
}

/** A revision (branch, tag or commit) becomes refs/{revision}: a branch may hold '/', never '..'. */
export function checkRevision(revision: string): string {
  const why = unsafePathReason(revision);
  if (why) throw new UserError(`Revision ${JSON.stringify(revision.slice(0, 200))} is not a valid branch, tag or commit (${why}): check --revision.`);
  return revision;
}

/** The X-Repo-Commit header: a 40-hex commit, or the server is not a hub. */
export function checkCommit(commit: string, endpoint: string, what: string): string {
  if (!COMMIT.test(commit)) {
    throw new UserError(
      `The server at ${endpoint} sent X-Repo-Commit ${JSON.stringify(commit.slice(0, 100))} for ${what}, which is not a 40-hex commit hash: refusing to use it as a cache path. Is HF_ENDPOINT a Hugging Face hub?`,
    );
  }
  return commit;
}

/** The (X-Linked-)ETag header, the blob's name in the cache: a sha1 or sha256 in hex. */
export function checkBlobEtag(etag: string, endpoint: string, what: string): string {
  if (!BLOB_ETAG.test(etag)) {
    throw new UserError(
      `The server at ${endpoint} sent ETag ${JSON.stringify(etag.slice(0, 100))} for ${what}, which is not a sha1 or sha256 in hex: refusing to use it as a cache path. Is HF_ENDPOINT a Hugging Face hub?`,
    );
  }
  return etag;
}

/** Last line of defence after joining: `path` must lie strictly inside `root` (lexically, no symlinks resolved). */
export function assertInside(root: string, path: string): string {
  const rel = relative(resolve(root), resolve(path));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new UserError(`Refusing to touch ${path}: it is outside ${root}.`);
  }
  return path;
}
