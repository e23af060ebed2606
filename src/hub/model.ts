/** A model folder for a local path or a hub id: from the HF cache when complete, else downloaded. */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { RepoCache, exists } from './cache.js';
import { downloadOptional, downloadToCache } from './download.js';
import { isRepoId, resolveHubOptions, type HubOptions, type ResolvedHubOptions } from './env.js';
import { listRepoFiles } from './list.js';
import { checkRepoPath } from './paths.js';

const REQUIRED = ['config.json', 'tokenizer.json'];
const OPTIONAL = ['generation_config.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const SINGLE_WEIGHTS = 'model.safetensors';
const WEIGHTS_INDEX = 'model.safetensors.index.json';

/**
 * Shard file names listed by a safetensors index (`weight_map` values), each checked to be a safe
 * relative path before anything is looked up or downloaded under that name.
 */
async function shardsOf(indexPath: string): Promise<string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (err) {
    throw new UserError(`Cannot parse ${indexPath} (${(err as Error).message}): delete it and run again to re-download.`);
  }
  const map = parsed !== null && typeof parsed === 'object' ? (parsed as { weight_map?: unknown }).weight_map : undefined;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new UserError(`${indexPath} has no "weight_map" object: it is not a safetensors index.`);
  const shards = new Set<string>();
  for (const v of Object.values(map)) shards.add(checkRepoPath(v, `The weight_map of ${indexPath}`));
  return [...shards].sort();
}

/** True when a folder has everything the engine loads: config, tokenizer and all safetensors weights. */
async function isCompleteModelDir(dir: string): Promise<boolean> {
  for (const f of REQUIRED) if (!(await exists(join(dir, f)))) return false;
  if (await exists(join(dir, SINGLE_WEIGHTS))) return true;
  if (!(await exists(join(dir, WEIGHTS_INDEX)))) return false;
  // An unreadable or unsafe index is not "incomplete": shardsOf's message says what is wrong with it.
  for (const shard of await shardsOf(join(dir, WEIGHTS_INDEX))) if (!(await exists(join(dir, shard)))) return false;
  return true;
}

async function localFolder(idOrPath: string): Promise<string | undefined> {
  const looksLikePath = /^(\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:[\\/])/.test(idOrPath) || !isRepoId(idOrPath);
  let s;
  try {
    s = await stat(idOrPath);
  } catch {
    if (looksLikePath) {
      throw new UserError(`Model folder ${idOrPath} does not exist: give a folder with config.json, or a hub id such as EleutherAI/pythia-70m.`);
    }
    return undefined;
  }
  if (!s.isDirectory()) {
    throw new UserError(`Model path ${idOrPath} is a file: give the folder that holds config.json and the safetensors weights.`);
  }
  const dir = resolve(idOrPath);
  if (!(await exists(join(dir, 'config.json')))) {
    throw new UserError(`Model folder ${dir} has no config.json: give a folder in Hugging Face layout (config.json, tokenizer.json, *.safetensors).`);
  }
  return dir;
}

async function cachedSnapshot(o: ResolvedHubOptions, repoId: string): Promise<string | undefined> {
  const cache = new RepoCache(o.cacheDir, 'model', repoId);
  const commit = await cache.commitFor(o.revision);
  if (!commit) return undefined;
  const dir = cache.snapshotDir(commit);
  return (await isCompleteModelDir(dir)) ? dir : undefined;
}

/**
 * A model folder for a local path or a hub id. Hub ids are served from the HF cache when complete
 * there (no network), else config, tokenizer and safetensors weights are downloaded into it, in the
 * layout Python's huggingface_hub uses, so each side reuses the other's downloads.
 */
export async function resolveModelDir(idOrPath: string, opts: HubOptions = {}): Promise<string> {
  const local = await localFolder(idOrPath);
  if (local) return local;
  const o = resolveHubOptions(opts);
  const repoId = idOrPath;
  const cached = await cachedSnapshot(o, repoId);
  if (cached) return cached;
  if (o.offline) {
    throw new UserError(
      `Model ${repoId} (revision ${o.revision}) is not complete in the HF cache ${o.cacheDir} and offline mode is on (HF_HUB_OFFLINE): unset HF_HUB_OFFLINE to download it, or set HF_HUB_CACHE/HF_HOME to the cache that has it.`,
    );
  }
  const files = new Set((await listRepoFiles(o, 'model', repoId, o.revision, false)).map((f) => f.path));
  let weights: string[];
  if (files.has(SINGLE_WEIGHTS)) weights = [SINGLE_WEIGHTS];
  else if (files.has(WEIGHTS_INDEX)) weights = [WEIGHTS_INDEX];
  else {
    const others = [...files].filter((f) => /\.(bin|pt|pth|gguf|h5|msgpack|onnx)$/.test(f));
    throw new UserError(
      `Model ${repoId} has no safetensors weights (${WEIGHTS_INDEX} or ${SINGLE_WEIGHTS})${others.length ? `, only ${others.join(', ')}` : ''}: pick a revision or a repo with safetensors, or convert the weights with transformers (save_pretrained(safe_serialization=True)) into a local folder.`,
    );
  }
  for (const f of REQUIRED) {
    if (!files.has(f)) {
      throw new UserError(`Model ${repoId} has no ${f} at revision ${o.revision}: entropylens needs config.json and a fast tokenizer (tokenizer.json); save one with transformers into a local folder.`);
    }
  }
  // The first download pins the commit; the rest are fetched at that commit so the snapshot is consistent.
  const first = await downloadToCache(o, 'model', repoId, 'config.json', o.revision);
  const commit = first.commit;
  for (const f of REQUIRED.slice(1)) await downloadToCache(o, 'model', repoId, f, commit);
  for (const f of OPTIONAL) if (files.has(f)) await downloadOptional(o, 'model', repoId, f, commit);
  for (const f of weights) await downloadToCache(o, 'model', repoId, f, commit);
  if (weights[0] === WEIGHTS_INDEX) {
    const dir = new RepoCache(o.cacheDir, 'model', repoId).snapshotDir(commit);
    // All names are checked before the first shard is fetched: a bad index leaves no shard behind.
    const shards = await shardsOf(join(dir, WEIGHTS_INDEX));
    for (const shard of shards) await downloadToCache(o, 'model', repoId, shard, commit);
  }
  return new RepoCache(o.cacheDir, 'model', repoId).snapshotDir(commit);
}
