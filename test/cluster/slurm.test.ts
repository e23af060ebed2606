/**
 * A real Slurm: a single-node cluster (munge, slurmctld, slurmd; tools/slurm/single-node.sh) runs
 * examples/slurm/entropylens-array.sbatch as an array of 3 tasks on the demo model with --shard
 * auto; one task is requeued (killed) midway and runs again. The union equals an unsharded run.
 * Skipped, saying why, where Slurm is not installed or cannot start (not root, no munge).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { generateStories } from '../../src/datasets/demo-stories.js';
import { datasetStatus, readResults, type ResultRow } from '../../src/store/index.js';
import { assetPath } from '../../src/util/package.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { CLI, runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const root = tempDir('el-slurm-');
const cluster = path.join(root, 'cluster');
let started = false;
after(() => {
  if (started) spawnSync(path.join(REPO_ROOT, 'tools/slurm/single-node.sh'), ['stop', cluster]);
  fs.rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

it('an array job of 3 shards with one task requeued midway equals the unsharded run', { timeout: 300_000 }, async (t) => {
  const start = spawnSync(path.join(REPO_ROOT, 'tools/slurm/single-node.sh'), ['start', cluster], { encoding: 'utf8' });
  if (start.status === 3) return t.skip(`no Slurm cluster here: ${start.stderr.trim()}`);
  assert.equal(start.status, 0, start.stderr);
  started = true;
  const env = { ...process.env, SLURM_CONF: path.join(cluster, 'slurm.conf') };
  const slurm = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { env, encoding: 'utf8' });

  const stories = path.join(root, 'stories.jsonl');
  fs.writeFileSync(stories, generateStories(11, 3).map((s) => JSON.stringify({ text: s.text })).join('\n') + '\n');
  const cache = path.join(root, 'cache');
  const common = ['--dataset', stories, '--n-stories', '3', '--max-new-tokens', '3', '--temperature', '1', '--seed', '2', '--update-steps', '3', '--batch-size', '4', '--no-figures', '--cache-dir', cache];
  // The reference first (it also fills the weight cache the tasks share).
  const whole = path.join(root, 'whole');
  const ref = runCli(['run', 'tinystories', '--model', assetPath('demo-model'), '--out', whole, ...common]);
  assert.equal(ref.code, 0, ref.stderr);

  const out = path.join(root, 'sharded');
  const job = slurm(
    'sbatch', '--parsable', '--array=0-2', '--cpus-per-task=1', '--mem=1G', `--output=${root}/task-%A_%a.log`,
    `--export=ALL,ENTROPYLENS=${process.execPath} ${CLI},EL_RUN=tinystories,EL_MODEL=${assetPath('demo-model')},EL_OUT=${out},HF_HUB_OFFLINE=1,EL_ARGS=${common.join(' ')}`,
    path.join(REPO_ROOT, 'examples/slurm/entropylens-array.sbatch'),
  ).trim();

  // Task 1, once it has written a part file, is requeued: Slurm kills it and runs it again.
  await until('task 1 to write', 120_000, () => (fs.existsSync(path.join(out, 'writers')) && fs.readdirSync(out).some((f) => f.startsWith('part-s1of3-')) ? true : undefined));
  slurm('scontrol', 'requeue', `${job}_1`);
  const requeuedAt = Date.now();
  let info = '';
  const logs = (): string => fs.readdirSync(root).filter((f) => f.startsWith('task-')).map((f) => `--- ${f}\n${fs.readFileSync(path.join(root, f), 'utf8').slice(-3000)}`).join('\n');
  await until('task 1 to run again (last state below)', 150_000, () => {
    info = slurm('scontrol', 'show', 'job', `${job}_1`);
    if (/Restarts=1/.test(info) && /JobState=(RUNNING|COMPLETED)/.test(info)) return true;
    if (/Restarts=1/.test(info) && /JobState=(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)/.test(info)) throw new Error(`task 1 failed after its requeue\n${logs()}`);
    // A requeued job waits for a begin time (about two minutes): let it start sooner, but not within
    // the second of its requeue — slurmd refuses a launch whose credential is no newer than the
    // revocation of the killed run's (one-second resolution), and the job then fails at launch.
    if (/JobState=PENDING/.test(info) && Date.now() - requeuedAt > 2500) spawnSync('scontrol', ['update', `JobId=${job}_1`, 'StartTime=now'], { env });
    return undefined;
  }).catch((e: Error) => {
    throw new Error(`${e.message}\n${info}\n${logs()}`);
  });
  await until('the array to finish', 180_000, async () => {
    const queued = slurm('squeue', '-h', '-j', job).trim();
    return queued === '' && (await datasetStatus(out)).complete ? true : undefined;
  });
  const all = logs();
  assert.match(all, /task 1 of 3 \(restart 1\)/, 'task 1 ran a second time');
  assert.match(all, /DUE TO JOB REQUEUE/);

  const want = (await readResults(whole)).rows;
  const got = (await readResults(out)).rows;
  assert.deepEqual(got.map((r: ResultRow) => r.sample_id), want.map((r) => r.sample_id));
  let worst = 0;
  got.forEach((r, i) => {
    assert.equal(r.completion, want[i].completion, r.sample_id);
    r.values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want[i].values[j]))));
  });
  assert.ok(worst <= 1e-5, `values within 1e-5 nats: ${worst}`);
  const status = runCli(['status', out]);
  assert.match(status.stdout, /3 shards: 3 complete/);
});
