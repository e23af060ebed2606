/** Hub options and the environment variables huggingface_hub reads (HF_HOME, HF_HUB_CACHE, HF_TOKEN, HF_ENDPOINT, …). */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';

export type RepoType = 'model' | 'dataset';

/** Options shared by every hub call; each falls back to the variable huggingface_hub reads. */
export interface HubOptions {
  /** Hub cache folder (the one holding `models--owner--name`). */
  cacheDir?: string;
  /** Branch, tag or commit. Default `main`. */
  revision?: string;
  /** Hub base URL. Default `$HF_ENDPOINT` or https://huggingface.co. */
  endpoint?: string;
  /** Access token. Default `$HF_TOKEN`. */
  token?: string;
  /** Never touch the network. Default from `$HF_HUB_OFFLINE`. */
  offline?: boolean;
  /** Byte-level progress of each file download (in addition to the terminal bar). */
  onProgress?: (event: DownloadProgress) => void;
  /** Draw a progress bar on stderr even when it is not a terminal. */
  forceProgressBar?: boolean;
  /** Seconds to wait for the hub's answer to a metadata request (HEAD, file listing). Default `$HF_HUB_ETAG_TIMEOUT` or 10. */
  etagTimeout?: number;
  /** Seconds a download may go without receiving a byte. Default `$HF_HUB_DOWNLOAD_TIMEOUT` or 10. */
  downloadTimeout?: number;
  /** Attempts per request before a network failure or timeout is reported. Default 3 for metadata, 6 for downloads (which resume). */
  maxAttempts?: number;
}

export interface DownloadProgress {
  repoId: string;
  path: string;
  bytes: number;
  total: number;
}

export interface ResolvedHubOptions {
  cacheDir: string;
  revision: string;
  endpoint: string;
  token: string | undefined;
  offline: boolean;
  onProgress: ((event: DownloadProgress) => void) | undefined;
  forceProgressBar: boolean;
  etagTimeout: number;
  downloadTimeout: number;
  metadataAttempts: number;
  downloadAttempts: number;
}

/** huggingface_hub's defaults (constants.DEFAULT_ETAG_TIMEOUT / DEFAULT_DOWNLOAD_TIMEOUT), in seconds. */
export const DEFAULT_ETAG_TIMEOUT = 10;
export const DEFAULT_DOWNLOAD_TIMEOUT = 10;
/** A HEAD or a listing page is retried twice (huggingface_hub retries once, with a longer timeout); a download resumes up to 5 times. */
export const DEFAULT_METADATA_ATTEMPTS = 3;
export const DEFAULT_DOWNLOAD_ATTEMPTS = 6;

/** A positive number of seconds from an option or a variable; unset or empty gives the default. */
function seconds(value: number | string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isFinite(n) || n <= 0) {
    throw new UserError(`${name} must be a positive number of seconds, got ${JSON.stringify(String(value))}: fix or unset it.`);
  }
  return n;
}

/** Same precedence as huggingface_hub: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME/huggingface/hub. */
export function defaultHubCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env['HF_HUB_CACHE']) return env['HF_HUB_CACHE'];
  if (env['HF_HOME']) return join(env['HF_HOME'], 'hub');
  const xdg = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(xdg, 'huggingface', 'hub');
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

export function resolveHubOptions(opts: HubOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env): ResolvedHubOptions {
  const endpoint = (opts.endpoint ?? env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  return {
    cacheDir: opts.cacheDir ?? defaultHubCacheDir(env),
    revision: opts.revision ?? 'main',
    endpoint,
    token: opts.token ?? (env['HF_TOKEN'] || env['HUGGING_FACE_HUB_TOKEN'] || undefined),
    offline: opts.offline ?? envFlag(env['HF_HUB_OFFLINE']),
    onProgress: opts.onProgress,
    forceProgressBar: opts.forceProgressBar ?? false,
    etagTimeout: seconds(opts.etagTimeout ?? env['HF_HUB_ETAG_TIMEOUT'], opts.etagTimeout !== undefined ? 'etagTimeout' : 'HF_HUB_ETAG_TIMEOUT', DEFAULT_ETAG_TIMEOUT),
    downloadTimeout: seconds(
      opts.downloadTimeout ?? env['HF_HUB_DOWNLOAD_TIMEOUT'],
      opts.downloadTimeout !== undefined ? 'downloadTimeout' : 'HF_HUB_DOWNLOAD_TIMEOUT',
      DEFAULT_DOWNLOAD_TIMEOUT,
    ),
    metadataAttempts: Math.max(1, Math.floor(opts.maxAttempts ?? DEFAULT_METADATA_ATTEMPTS)),
    downloadAttempts: Math.max(1, Math.floor(opts.maxAttempts ?? DEFAULT_DOWNLOAD_ATTEMPTS)),
  };
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$|^[A-Za-z0-9][\w.-]*$/;

/** `owner/name` (or a legacy single-name id such as `gpt2`). */
export function isRepoId(s: string): boolean {
  return REPO_ID.test(s) && !s.includes('..') && !s.endsWith('.git');
}

/** Folder name of a repo inside the hub cache, e.g. `models--EleutherAI--pythia-70m`. */
export function repoFolderName(type: RepoType, repoId: string): string {
  return `${type}s--${repoId.split('/').join('--')}`;
}

/** Human-facing page of a repo, for error messages. */
export function repoUrl(endpoint: string, type: RepoType, repoId: string): string {
  return type === 'dataset' ? `${endpoint}/datasets/${repoId}` : `${endpoint}/${repoId}`;
}
