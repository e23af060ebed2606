import { homedir } from 'node:os';
import { join } from 'node:path';

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
}

/** Same precedence as huggingface_hub: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME/huggingface/hub. */
export function defaultHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['HF_HUB_CACHE']) return env['HF_HUB_CACHE'];
  if (env['HF_HOME']) return join(env['HF_HOME'], 'hub');
  const xdg = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(xdg, 'huggingface', 'hub');
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

export function resolveHubOptions(opts: HubOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedHubOptions {
  const endpoint = (opts.endpoint ?? env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  return {
    cacheDir: opts.cacheDir ?? defaultHubCacheDir(env),
    revision: opts.revision ?? 'main',
    endpoint,
    token: opts.token ?? (env['HF_TOKEN'] || env['HUGGING_FACE_HUB_TOKEN'] || undefined),
    offline: opts.offline ?? envFlag(env['HF_HUB_OFFLINE']),
    onProgress: opts.onProgress,
    forceProgressBar: opts.forceProgressBar ?? false,
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
