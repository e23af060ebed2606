/** Downloads from the hub into its cache: metadata (HEAD), resumable transfers, progress. */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ProgressBar } from '../util/progress.js';
import { RepoCache, exists } from './cache.js';
import type { RepoType, ResolvedHubOptions } from './env.js';
import { hubErrorFrom, networkError, HubError, timeoutError, type RequestContext } from './errors.js';
import { HubTimeoutError, backoffMs, sleep, timedFetch, withRetries } from './http.js';
import { checkBlobEtag, checkCommit, checkRepoPath, checkRevision, isCommitHash } from './paths.js';
import { UserError } from '../util/errors.js';

/** What a HEAD on `/resolve/` tells about a file before downloading it (as huggingface_hub reads it). */
export interface FileMetadata {
  commit: string;
  /** Blob name in the cache: the LFS sha256 for large files, the git blob sha1 otherwise. */
  etag: string;
  /** Bytes, or undefined when the hub did not say. */
  size: number | undefined;
  /** Where the bytes are: the redirect target for LFS files, else the resolve URL itself. */
  location: string;
  /** True when the bytes live behind a redirect (a pre-signed CDN URL): no token goes there. */
  redirected: boolean;
}

export function resolveUrl(endpoint: string, type: RepoType, repoId: string, revision: string, path: string): string {
  const prefix = type === 'dataset' ? 'datasets/' : '';
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${prefix}${repoId}/resolve/${encodeURIComponent(revision)}/${file}`;
}

function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Strip the weak marker and quotes, as huggingface_hub does, so the blob name is the bare hash. */
function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** One metadata request (no body worth reading), retried on network failures and timeouts. */
async function metadataFetch(o: ResolvedHubOptions, url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await withRetries(o.metadataAttempts, async () => {
      const res = await timedFetch(url, init, { timeoutSeconds: o.etagTimeout });
      await res.body?.cancel();
      return res;
    });
  } catch (err) {
    if (err instanceof HubTimeoutError) throw timeoutError(o.endpoint, what, err, 'HF_HUB_ETAG_TIMEOUT', o.metadataAttempts);
    throw networkError(o.endpoint, err);
  }
}

/**
 * HEAD the file without following the LFS redirect (its metadata lives on the hub's answer, not on the
 * CDN's); relative redirects (a renamed repo) are followed, as huggingface_hub does.
 */
export async function fetchFileMetadata(
  o: ResolvedHubOptions,
  type: RepoType,
  repoId: string,
  path: string,
  revision: string,
): Promise<FileMetadata> {
  const ctx: RequestContext = { endpoint: o.endpoint, type, repoId, revision, path, hasToken: Boolean(o.token) };
  let url = resolveUrl(o.endpoint, type, repoId, revision, path);
  for (let hops = 0; hops < 5; hops++) {
    const res = await metadataFetch(
      o,
      url,
      { method: 'HEAD', redirect: 'manual', headers: { ...authHeaders(o.token), 'accept-encoding': 'identity' } },
      `asking for ${path} in ${repoId}`,
    );
    const location = res.headers.get('location');
    // A path on the same server ('/x', not the protocol-relative '//host/x'): the token may follow it.
    if (res.status >= 300 && res.status < 400 && location && location.startsWith('/') && !location.startsWith('//')) {
      url = new URL(location, url).toString();
      continue;
    }
    if (res.status >= 400) throw hubErrorFrom(res.status, res.headers.get('x-error-code'), ctx, res.headers.get('x-error-message') ?? '');
    const commit = res.headers.get('x-repo-commit');
    const etag = normalizeEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'));
    if (!commit || !etag) {
      throw new UserError(
        `The server at ${o.endpoint} did not send X-Repo-Commit/ETag for ${path} in ${repoId}: is HF_ENDPOINT a Hugging Face hub (or a mirror that forwards these headers)?`,
      );
    }
    // Both become cache paths (snapshots/{commit}, blobs/{etag}): hashes only, checked before any file call.
    checkCommit(commit, o.endpoint, `${path} in ${repoId}`);
    checkBlobEtag(etag, o.endpoint, `${path} in ${repoId}`);
    const sizeHeader = res.headers.get('x-linked-size') ?? res.headers.get('content-length');
    const size = sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : undefined;
    let target = url;
    if (res.status >= 300 && res.status < 400 && location) {
      try {
        target = new URL(location, url).toString();
      } catch {
        throw new UserError(`The server at ${o.endpoint} redirected ${path} in ${repoId} to ${JSON.stringify(location.slice(0, 200))}, which is not a URL: is HF_ENDPOINT a Hugging Face hub?`);
      }
    }
    return { commit, etag, size, location: target, redirected: target !== url };
  }
  throw new UserError(`Too many redirects for ${path} in ${repoId} on ${o.endpoint}.`);
}

async function hashExisting(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/**
 * Stream the blob into `{blob}.incomplete`, resuming from its current size with a Range request (after
 * a dropped connection in this call, or a previous run that was killed), then rename it into place.
 * A sha256 etag (LFS files) is checked against the bytes, so a bad resume cannot go unnoticed.
 */
async function downloadBlob(
  o: ResolvedHubOptions,
  meta: FileMetadata,
  blobPath: string,
  label: { repoId: string; path: string },
): Promise<void> {
  const incomplete = `${blobPath}.incomplete`;
  await mkdir(dirname(blobPath), { recursive: true });
  const verifySha = /^[0-9a-f]{64}$/.test(meta.etag);
  let hash = verifySha ? createHash('sha256') : undefined;
  let have = (await exists(incomplete)) ? (await stat(incomplete)).size : 0;
  if (meta.size !== undefined && have > meta.size) {
    await truncate(incomplete, 0);
    have = 0;
  }
  if (hash && have > 0) await hashExisting(incomplete, hash);

  const totalMb = Math.max(1, Math.ceil((meta.size ?? 0) / 1e6));
  const bar = new ProgressBar({ total: totalMb, label: `${label.repoId}/${label.path}`, unit: 'MB', force: o.forceProgressBar });
  let tickedMb = 0;
  const report = (): void => {
    const mb = Math.floor(have / 1e6);
    if (mb > tickedMb) {
      bar.tick(mb - tickedMb);
      tickedMb = mb;
    }
    o.onProgress?.({ repoId: label.repoId, path: label.path, bytes: have, total: meta.size ?? have });
  };

  let lastError: unknown;
  for (let attempt = 0; attempt < o.downloadAttempts; attempt++) {
    if (meta.size !== undefined && have === meta.size && attempt > 0) break;
    if (attempt > 0) await sleep(backoffMs(attempt));
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    // The CDN URL of an LFS file is pre-signed; the token only goes to the hub itself (as huggingface_hub).
    if (!meta.redirected) Object.assign(headers, authHeaders(o.token));
    if (have > 0) headers['range'] = `bytes=${have}-`;
    let res: Response;
    try {
      res = await timedFetch(meta.location, { headers, redirect: 'follow' }, { timeoutSeconds: o.downloadTimeout });
    } catch (err) {
      lastError = err instanceof HubTimeoutError ? err : networkError(o.endpoint, err);
      continue;
    }
    if (res.status === 416 && meta.size !== undefined && have === meta.size) {
      await res.body?.cancel();
      break;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new HubError(
        `Downloading ${label.path} from ${label.repoId} failed with HTTP ${res.status}: try again (the download resumes where it stopped).`,
        String(res.status),
        res.status,
      );
    }
    const rangeStart = res.status === 206 ? Number(/bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1] ?? NaN) : 0;
    if (rangeStart !== have) {
      // The server ignored (or mangled) the Range request: start over from byte 0.
      await truncate(incomplete, 0).catch(() => undefined);
      have = 0;
      hash = verifySha ? createHash('sha256') : undefined;
      if (res.status === 206) {
        await res.body?.cancel();
        continue;
      }
    }
    const fh = await open(incomplete, have > 0 ? 'a' : 'w');
    try {
      if (!res.body) throw new Error('empty body');
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        hash?.update(chunk);
        have += chunk.byteLength;
        report();
      }
      lastError = undefined;
      if (meta.size === undefined || have >= meta.size) break;
    } catch (err) {
      lastError = err;
    } finally {
      await fh.close();
    }
  }
  bar.finish();
  if (lastError instanceof HubTimeoutError) {
    throw timeoutError(o.endpoint, `downloading ${label.path} from ${label.repoId} (${have} bytes so far, kept in ${incomplete})`, lastError, 'HF_HUB_DOWNLOAD_TIMEOUT', o.downloadAttempts);
  }
  if (lastError !== undefined || (meta.size !== undefined && have !== meta.size)) {
    const why = lastError instanceof Error ? lastError.message : `got ${have} of ${meta.size} bytes`;
    throw new UserError(
      `Downloading ${label.path} from ${label.repoId} was interrupted (${why}) after ${o.downloadAttempts} attempts: run the command again, it resumes from ${incomplete}.`,
    );
  }
  if (hash) {
    const digest = hash.digest('hex');
    if (digest !== meta.etag) {
      await truncate(incomplete, 0);
      throw new UserError(
        `Downloaded ${label.path} from ${label.repoId} does not match its sha256 (${digest} vs ${meta.etag}): the partial file was discarded, run the command again.`,
      );
    }
  }
  await rename(incomplete, blobPath);
}

export interface CachedFile {
  /** The file inside snapshots/{commit}/. */
  path: string;
  commit: string;
}

/**
 * Download one repo file into the hub cache (or find it there) and return its snapshot path.
 * Network: one HEAD, plus the GET(s) when the blob is not cached yet.
 */
export async function downloadToCache(
  o: ResolvedHubOptions,
  type: RepoType,
  repoId: string,
  path: string,
  revision: string = o.revision,
): Promise<CachedFile> {
  checkRepoPath(path, `The request for ${repoId}`);
  checkRevision(revision);
  const cache = new RepoCache(o.cacheDir, type, repoId);
  if (isCommitHash(revision)) {
    const pointer = cache.pointerPath(revision, path);
    if (await exists(pointer)) return { path: pointer, commit: revision };
  }
  const meta = await fetchFileMetadata(o, type, repoId, path, revision);
  await cache.writeRef(revision, meta.commit);
  const pointer = cache.pointerPath(meta.commit, path);
  if (await exists(pointer)) return { path: pointer, commit: meta.commit };
  const blob = cache.blobPath(meta.etag);
  if (!(await exists(blob))) await downloadBlob(o, meta, blob, { repoId, path });
  await cache.linkSnapshot(meta.commit, path, blob);
  return { path: pointer, commit: meta.commit };
}

/** As downloadToCache, but a file the repo does not have gives undefined instead of an error. */
export async function downloadOptional(
  o: ResolvedHubOptions,
  type: RepoType,
  repoId: string,
  path: string,
  revision: string,
): Promise<CachedFile | undefined> {
  try {
    return await downloadToCache(o, type, repoId, path, revision);
  } catch (err) {
    if (err instanceof HubError && err.code === 'EntryNotFound') return undefined;
    throw err;
  }
}
