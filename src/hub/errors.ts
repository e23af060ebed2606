/** Hub failures turned into UserErrors that say what to do (repo not found, gated, offline, …). */
import { UserError } from '../util/errors.js';
import { repoUrl, type RepoType } from './env.js';

/** A hub failure the user can fix; `code` is the hub's X-Error-Code (RepoNotFound, EntryNotFound, …) or an HTTP status. */
export class HubError extends UserError {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export interface RequestContext {
  endpoint: string;
  type: RepoType;
  repoId: string;
  revision: string;
  /** The file asked for, when the request was for one file. */
  path?: string;
  hasToken: boolean;
}

const kind = (t: RepoType): string => (t === 'dataset' ? 'dataset' : 'model');

/**
 * Turn a failed hub response into a message that says what to do. The hub answers 401 rather than 404
 * for a repo it will not reveal, so both read the same when no token was sent.
 */
export function hubErrorFrom(status: number, errorCode: string | null, ctx: RequestContext, detail = ''): HubError {
  const page = repoUrl(ctx.endpoint, ctx.type, ctx.repoId);
  const tokenHint = ctx.hasToken
    ? 'the token in HF_TOKEN may lack access to it'
    : 'if it is private or gated, set HF_TOKEN to a token with access';
  const what = `${kind(ctx.type)} repo ${ctx.repoId}`;
  const suffix = detail ? ` (${detail})` : '';
  if (errorCode === 'GatedRepo') {
    return new HubError(
      `The ${what} is gated (HTTP ${status}): accept its terms on ${page} and set HF_TOKEN to a token of that account.`,
      errorCode,
      status,
    );
  }
  if (errorCode === 'RepoNotFound' || (status === 401 && !errorCode) || (status === 404 && !ctx.path && !errorCode)) {
    return new HubError(
      `The ${what} was not found on ${ctx.endpoint} (HTTP ${status}): check the id (owner/name${ctx.type === 'dataset' ? ', a dataset' : ', a model'}); ${tokenHint}.`,
      errorCode ?? String(status),
      status,
    );
  }
  if (errorCode === 'RevisionNotFound') {
    return new HubError(
      `Revision "${ctx.revision}" was not found in the ${what} (HTTP ${status}): check --revision (a branch, tag or commit of ${page}).`,
      errorCode,
      status,
    );
  }
  if (errorCode === 'EntryNotFound' || (status === 404 && ctx.path)) {
    return new HubError(
      `File ${ctx.path ?? '?'} was not found in the ${what} at revision ${ctx.revision} (HTTP ${status}): check the repo id and that the repo has this file (${page}/tree/${ctx.revision}).`,
      errorCode ?? String(status),
      status,
    );
  }
  if (status === 403) {
    return new HubError(
      `Access to the ${what} was refused (HTTP 403)${suffix}: ${tokenHint}; for a gated repo accept its terms on ${page}.`,
      errorCode ?? '403',
      status,
    );
  }
  return new HubError(
    `The hub answered HTTP ${status} for ${ctx.path ? `${ctx.path} in ` : ''}the ${what}${suffix}: try again later, or set HF_HUB_OFFLINE=1 to use only the cache.`,
    errorCode ?? String(status),
    status,
  );
}

export function networkError(endpoint: string, err: unknown): UserError {
  const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return new UserError(
    `Cannot reach the hub at ${endpoint} (${cause}): check the network (or HF_ENDPOINT), or set HF_HUB_OFFLINE=1 to use files already in the cache.`,
  );
}

/** A request that stalled on every attempt: which one, for how long, and the variable that sets the limit. */
export function timeoutError(endpoint: string, what: string, err: { seconds: number; phase: 'headers' | 'body' }, variable: string, attempts: number): UserError {
  const stalled = err.phase === 'headers' ? 'did not answer' : 'stopped sending data';
  return new UserError(
    `The hub at ${endpoint} ${stalled} for ${err.seconds} s while ${what} (${attempts} attempt${attempts === 1 ? '' : 's'}): check the network or HF_ENDPOINT, try again later (downloads resume), or allow more time with ${variable}=<seconds>.`,
  );
}
