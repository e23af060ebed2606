import { HubApiError, listFiles } from '@huggingface/hub';
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
  const out: RemoteFile[] = [];
  try {
    for await (const entry of listFiles({
      repo: { type, name: repoId },
      revision: encodeURIComponent(revision),
      recursive,
      hubUrl: o.endpoint,
      ...(o.token ? { accessToken: o.token } : {}),
    })) {
      if (entry.type === 'file') out.push({ path: entry.path, size: entry.lfs?.size ?? entry.size });
    }
  } catch (err) {
    if (err instanceof HubApiError) {
      const code = (err.data?.['error_code'] as string | undefined) ?? codeFromMessage(err.message);
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
  if (/revision/i.test(message) && /not (be )?found|invalid rev/i.test(message)) return 'RevisionNotFound';
  if (/repository not found|repo.*not found/i.test(message)) return 'RepoNotFound';
  if (/gated|restricted/i.test(message)) return 'GatedRepo';
  return null;
}
