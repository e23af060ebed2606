/**
 * Splitting a run for a cluster: `--shard i/N` takes a fixed 1/N of the samples (every N-th, by the
 * sample's place in the run, so the split is the same whatever order the shards run in and shard
 * sizes differ by at most one); `--shard auto` reads i and N from a Slurm array job or a Kubernetes
 * Indexed Job.
 */
import { MAX_SHARDS } from '../store/layout.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export interface Shard {
  index: number;
  count: number;
}

function int(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UserError(`${what} must be a non-negative integer, got '${text}'`);
  return Number(text);
}

/**
 * The shard of this process from `--shard` (and `--shards` for Kubernetes), or null without one.
 * `auto` uses SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT, or
 * JOB_COMPLETION_INDEX of `--shards N`.
 */
export function resolveShard(spec: string | undefined, shardsOption: number | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Shard | null {
  if (spec === undefined) {
    if (shardsOption !== undefined) throw new UserError('--shards N goes with --shard auto (a Kubernetes Indexed Job); for a fixed shard write --shard i/N');
    return null;
  }
  let shard: Shard;
  if (spec === 'auto') {
    if (env.SLURM_ARRAY_TASK_ID !== undefined) {
      const id = int(env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID');
      const min = env.SLURM_ARRAY_TASK_MIN !== undefined ? int(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN') : 0;
      if (env.SLURM_ARRAY_TASK_COUNT === undefined) throw new UserError('--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard i/N instead');
      const count = int(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT');
      if (shardsOption !== undefined && shardsOption !== count) throw new UserError(`--shards ${shardsOption} disagrees with the Slurm array's ${count} tasks; leave --shards out on Slurm`);
      shard = { index: id - min, count };
      if (shard.index >= count) {
        throw new UserError(`--shard auto: array task ${id} − first task ${min} = ${shard.index} is not below the ${count} tasks; use a contiguous array (--array=0-${count - 1}), or pass --shard i/N`);
      }
    } else if (env.JOB_COMPLETION_INDEX !== undefined) {
      if (shardsOption === undefined) throw new UserError('--shard auto in a Kubernetes Indexed Job needs --shards N (the Job\'s completions)');
      shard = { index: int(env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX'), count: shardsOption };
    } else {
      throw new UserError(
        '--shard auto found no array job here: neither SLURM_ARRAY_TASK_ID (a Slurm array job, sbatch --array) nor JOB_COMPLETION_INDEX ' +
          '(a Kubernetes Indexed Job) is set; run it inside such a job, or pass --shard i/N',
      );
    }
  } else {
    const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
    if (!m) throw new UserError(`--shard '${spec}': expected i/N (0-based, e.g. 3/16) or auto`);
    if (shardsOption !== undefined) throw new UserError('--shards N goes with --shard auto; --shard i/N already says N');
    shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  if (shard.count < 1 || shard.count > MAX_SHARDS) throw new UserError(`--shard: the number of shards must be 1 to ${MAX_SHARDS}, got ${shard.count}`);
  if (shard.index >= shard.count) throw new UserError(`--shard ${shard.index}/${shard.count}: the index is 0-based and must be below ${shard.count}`);
  return shard;
}

/** This shard's samples: the ones whose place in the run is `index` modulo `count`. */
export function shardSamples<T extends { index: number }>(samples: readonly T[], shard: Shard | null): T[] {
  return shard ? samples.filter((s) => s.index % shard.count === shard.index) : [...samples];
}

/**
 * The families experiment loads one model per task: models are dealt to shards (model m to shard
 * m mod N), so a run has at most as many shards as models.
 */
export function shardModels(models: readonly string[], shard: Shard | null): number[] {
  const all = models.map((_, i) => i);
  if (!shard) return all;
  if (shard.count > models.length) {
    throw new UserError(`--shard ${shard.index}/${shard.count}: the families run splits by model and has only ${models.length} models; use at most ${models.length} shards`);
  }
  return all.filter((i) => i % shard.count === shard.index);
}

/**
 * `--limit N`: N samples drawn stratified over `key` (each value keeps its share, largest remainders
 * first) and at random within each value (seeded), returned in the run's order. A limit is a small,
 * representative run: the first N samples of a run are often all one class (formats lists one format
 * after the other).
 */
export function stratifiedLimit<T extends { index: number }>(samples: readonly T[], limit: number | undefined, key: (s: T) => string, seed: number): T[] {
  if (limit === undefined || limit >= samples.length) return [...samples];
  const groups = new Map<string, T[]>();
  for (const s of samples) (groups.get(key(s)) ?? groups.set(key(s), []).get(key(s))!).push(s);
  const n = samples.length;
  const entries = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const quota = entries.map(([, g]) => Math.floor((limit * g.length) / n));
  let left = limit - quota.reduce((a, b) => a + b, 0);
  const byRemainder = entries.map(([, g], i) => ({ i, r: (limit * g.length) / n - quota[i] })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left === 0) break;
    if (quota[i] < entries[i][1].length) {
      quota[i]++;
      left--;
    }
  }
  const rng = new Rng(seed >>> 0);
  const picked = entries.flatMap(([, g], i) => rng.shuffle(g).slice(0, quota[i]));
  return picked.sort((a, b) => a.index - b.index);
}
