/** Listing a hub repository's files (the tree API, paginated). */
import type { RepoType, ResolvedHubOptions } from './env.js';
import { hubErrorFrom, networkError, timeoutError } from './errors.js';
import { HubTimeoutError, timedFetch, withRetries } from './http.js';
import { UserError } from '../util/errors.js';

export interface RemoteFile {
  path: string;
  size: number;
}

/**
 * Pages of the tree API followed at most (1000 entries each on the hub: a million files). A server
 * whose `Link: rel="next"` never ends is stopped here; one that links a page already read, at once.
 */
export const MAX_TREE_PAGES = 1000;

/** `<url>; rel="next"` from a Link header (RFC 8288), or undefined. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

/** The origin of a URL, or a UserError with `message()` when it is not one. */
function urlOrigin(url: string, message: () => string): string {
  try {
    return new URL(url).origin;
  } catch {
    throw new UserError(message());
  }
}

/** The tree API answers errors with `{"error": "..."}`; map the usual messages to the hub's error codes. */
function codeFromMessage(message: string): string | null {
  if (/invalid rev(ision)? id|revision .*not (be )?found/i.test(message)) return 'RevisionNotFound';
  if (/repository not found|repo.*not found/i.test(message)) return 'RepoNotFound';
  if (/gated|restricted/i.test(message)) return 'GatedRepo';
  return null;
}

interface TreeEntry {
  type?: unknown;
  path?: unknown;
  size?: unknown;
  lfs?: { size?: unknown } | null;
}

/**
 * Every file of a repo at a revision, via the hub's tree API (`/api/{type}s/{id}/tree/{revision}`),
 * page by page through the Link header. Each page has the metadata timeout (HF_HUB_ETAG_TIMEOUT) for
 * its answer and between the chunks of its body, and is retried on network failures and timeouts.
 * Next-page links must stay on the endpoint's origin (the token goes with them).
 */
export async function listRepoFiles(
  o: ResolvedHubOptions,
  type: RepoType,
  repoId: string,
  revision: string,
  recursive = true,
  maxPages = MAX_TREE_PAGES,
): Promise<RemoteFile[]> {
  const ctx = { endpoint: o.endpoint, type, repoId, revision, hasToken: Boolean(o.token) };
  const headers: Record<string, string> = { accept: 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) };
  const origin = urlOrigin(o.endpoint, () => `HF_ENDPOINT ${JSON.stringify(o.endpoint)} is not a URL: set it to the hub's address, e.g. https://huggingface.co.`);
  const out: RemoteFile[] = [];
  const seen = new Set<string>();
  let url: string | undefined = `${o.endpoint}/api/${type}s/${repoId}/tree/${encodeURIComponent(revision)}?recursive=${recursive}&expand=false`;
  while (url !== undefined) {
    if (seen.has(url)) {
      throw new UserError(`The hub at ${o.endpoint} sent a file listing of ${repoId} whose next page is one already read (${url}): the server is broken; try again later or check HF_ENDPOINT.`);
    }
    if (seen.size >= maxPages) {
      throw new UserError(`The file listing of ${repoId} on ${o.endpoint} goes on for more than ${maxPages} pages: stopped; the server is broken, or the repo is too large to list.`);
    }
    seen.add(url);
    const pageUrl: string = url;
    const what = `listing the files of ${repoId} (page ${seen.size})`;
    let page: { items: unknown; next: string | undefined };
    try {
      page = await withRetries(o.metadataAttempts, async () => {
        const res = await timedFetch(pageUrl, { headers }, { timeoutSeconds: o.etagTimeout });
        if (!res.ok) {
          const text = await res.text().catch(() => '');
          let message = '';
          try {
            message = String((JSON.parse(text) as { error?: unknown }).error ?? '');
          } catch {
            message = text.slice(0, 200);
          }
          throw hubErrorFrom(res.status, res.headers.get('x-error-code') ?? codeFromMessage(message), ctx);
        }
        return { items: await res.json(), next: nextLink(res.headers.get('link')) };
      });
    } catch (err) {
      if (err instanceof UserError) throw err;
      if (err instanceof HubTimeoutError) throw timeoutError(o.endpoint, what, err, 'HF_HUB_ETAG_TIMEOUT', o.metadataAttempts);
      if (err instanceof SyntaxError) throw new UserError(`The hub at ${o.endpoint} sent a file listing of ${repoId} that is not JSON (${err.message}): check HF_ENDPOINT.`);
      throw networkError(o.endpoint, err);
    }
    if (!Array.isArray(page.items)) throw new UserError(`The hub at ${o.endpoint} sent a file listing of ${repoId} that is not a JSON array: check HF_ENDPOINT.`);
    for (const e of page.items as TreeEntry[]) {
      if (e === null || typeof e !== 'object' || e.type !== 'file' || typeof e.path !== 'string') continue;
      const size = typeof e.lfs?.size === 'number' ? e.lfs.size : typeof e.size === 'number' ? e.size : 0;
      out.push({ path: e.path, size });
    }
    if (page.next === undefined) break;
    const next = page.next;
    let nextUrl: URL;
    try {
      nextUrl = new URL(next, pageUrl);
    } catch {
      throw new UserError(`The hub at ${o.endpoint} sent a next-page link of the ${repoId} file listing that is not a URL (${JSON.stringify(next.slice(0, 200))}): check HF_ENDPOINT.`);
    }
    url = nextUrl.toString();
    const nextOrigin = nextUrl.origin;
    if (nextOrigin !== origin) {
      throw new UserError(`The hub at ${o.endpoint} sent a next-page link of the ${repoId} file listing to another server (${nextOrigin}): not followed (the token would go with it); check HF_ENDPOINT.`);
    }
  }
  return out;
}
