/** Where a dataset comes from: a file, a local folder in hub layout, or a hub dataset id. */
import { UserError } from '../util/errors.js';
import { resolveDatasetFiles } from '../hub/dataset.js';
import { isRepoId, type HubOptions } from '../hub/env.js';
import { isDirectory, localSplitFiles } from './readers.js';

export interface DatasetSpec {
  /** Hub dataset used when no source is given. */
  repo: string;
  config?: string;
  split: string;
}

export interface LoadOptions extends HubOptions {
  /** Keep only the first N rows (in file order). */
  limit?: number;
}

/**
 * The data files behind `--dataset PATH_OR_HUB_ID`: an existing file as is, a local folder in hub
 * layout (the split's files), else a hub dataset id (from the HF cache or downloaded into it).
 */
export async function resolveSourceFiles(source: string | undefined, spec: DatasetSpec, opts: HubOptions = {}): Promise<string[]> {
  const src = source ?? spec.repo;
  const dir = await isDirectory(src);
  if (dir === true) return localSplitFiles(src, { ...(spec.config ? { config: spec.config } : {}), split: spec.split });
  if (dir === false) return [src];
  const looksLikePath = /^(\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:[\\/])/.test(src) || /\.(parquet|jsonl|json|csv|txt|ndjson)$/i.test(src);
  if (looksLikePath || !isRepoId(src)) {
    throw new UserError(`Dataset ${src} does not exist: give a Parquet/JSONL/CSV/TXT file, a folder in hub layout, or a hub dataset id (default ${spec.repo}).`);
  }
  return resolveDatasetFiles(src, { ...opts, ...(spec.config ? { config: spec.config } : {}), split: spec.split });
}
