/** A hub dataset split's data files, from the HF cache or downloaded into it. */
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { RepoCache, listFilesRecursive } from './cache.js';
import { downloadToCache } from './download.js';
import { resolveHubOptions, type HubOptions } from './env.js';
import { listRepoFiles } from './list.js';
import { configsIn, selectSplitFiles } from './split-files.js';

export interface DatasetFilesOptions extends HubOptions {
  /** Dataset config (subset), e.g. `all` for cais/mmlu. */
  config?: string;
  /** Split, e.g. `validation` or `test`. */
  split: string;
}

function describe(repoId: string, opts: DatasetFilesOptions): string {
  return `${repoId}${opts.config ? ` config ${opts.config}` : ''} split ${opts.split}`;
}

/**
 * Local paths of the data files of one split of a hub dataset: from the HF cache when a snapshot there
 * already holds them (no network), else listed through the hub API and downloaded into the cache
 * (`datasets--owner--name`, shared with Python's `datasets`/huggingface_hub).
 */
export async function resolveDatasetFiles(repoId: string, opts: DatasetFilesOptions): Promise<string[]> {
  const o = resolveHubOptions(opts);
  const cache = new RepoCache(o.cacheDir, 'dataset', repoId);
  const commit = await cache.commitFor(o.revision);
  if (commit) {
    const dir = cache.snapshotDir(commit);
    const hit = selectSplitFiles(await listFilesRecursive(dir), opts);
    if (hit.length > 0) return hit.map((f) => join(dir, f));
  }
  if (o.offline) {
    throw new UserError(
      `Dataset ${describe(repoId, opts)} is not in the HF cache ${o.cacheDir} and offline mode is on (HF_HUB_OFFLINE): unset HF_HUB_OFFLINE to download it, or pass --dataset with a local file.`,
    );
  }
  const files = (await listRepoFiles(o, 'dataset', repoId, o.revision)).map((f) => f.path);
  const chosen = selectSplitFiles(files, opts);
  if (chosen.length === 0) {
    const configs = configsIn(files);
    throw new UserError(
      `Dataset ${repoId} has no Parquet/JSONL/CSV/TXT files for ${opts.config ? `config ${opts.config}, ` : ''}split ${opts.split}${configs.length ? ` (configs found: ${configs.slice(0, 20).join(', ')}${configs.length > 20 ? ', …' : ''})` : ''}: check the id, config and split, or pass --dataset with a local file.`,
    );
  }
  const out: string[] = [];
  let pinned = o.revision;
  for (const f of chosen) {
    const got = await downloadToCache(o, 'dataset', repoId, f, pinned);
    pinned = got.commit;
    out.push(got.path);
  }
  return out;
}
