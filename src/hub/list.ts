import type { RepoType, ResolvedHubOptions } from './env.js';
import { hubErrorFrom, networkError } from './errors.js';

export interface RemoteFile {
  path: string;
  size: number;
}

/** Every file of a repo at a revision, via the hub's tree API (paginated by @huggingface/hub). */
export async function listRepoFiles(
  o: ResolvedHubOptions,
  type: RepoType,
  repoId: string,
  revision: string,
  recursive = true,
): Promise<RemoteFile[]> {
  // loaded on first use: a run on a local folder or the HF cache never needs it
  const { HubApiError, listFiles } = await import('@huggingface/hub');
  const out: RemoteFile[] = [];
  // @huggingface/hub keeps the status and JSON message of a failure but not the hub's X-Error-Code header.
  let errorCode: string | null = null;
  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!res.ok) errorCode = res.headers.get('x-error-code');
    return res;
  };
  try {
    for await (const entry of listFiles({
      repo: { type, name: repoId },
      revision: encodeURIComponent(revision),
      recursive,
      hubUrl: o.endpoint,
      fetch: recordingFetch,
      ...(o.token ? { accessToken: o.token } : {}),
    })) {
      if (entry.type === 'file') out.push({ path: entry.path, size: entry.lfs?.size ?? entry.size });
    }
  } catch (err) {
    if (err instanceof HubApiError) {
      const code = errorCode ?? codeFromMessage(err.message);
      throw hubErrorFrom(err.statusCode, code, {
        endpoint: o.endpoint,
        type,
        repoId,
        revision,
        hasToken: Boolean(o.token),
      });
    }
    throw networkError(o.endpoint, err);
  }
  return out;
}

/** The tree API says what went wrong only in its JSON message; map the usual ones to the hub's error codes. */
function codeFromMessage(message: string): string | null {
  if (/invalid rev(ision)? id|revision .*not (be )?found/i.test(message)) return 'RevisionNotFound';
  if (/repository not found|repo.*not found/i.test(message)) return 'RepoNotFound';
  if (/gated|restricted/i.test(message)) return 'GatedRepo';
  return null;
}
