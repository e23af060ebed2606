/** The viewer's heavy computations (evaluation, t-SNE) in a worker thread, so the server keeps answering meanwhile. */
import { parentPort } from 'node:worker_threads';
import { evaluateRows, type RowsEvaluationOptions } from '../analysis/dataset.js';
import { TSNE } from '../analysis/manifold.js';
import type { ResultRow } from '../store/schema.js';
import { UserError } from '../util/errors.js';

export type ComputeJob =
  | { kind: 'evaluate'; rows: ResultRow[]; options: RowsEvaluationOptions }
  | { kind: 'tsne'; X: number[][]; perplexity: number; seed: number };

export type ComputeReply = { ok: true; value: unknown } | { ok: false; error: string; user: boolean };

function run(job: ComputeJob): unknown {
  if (job.kind === 'evaluate') return evaluateRows(job.rows, job.options);
  const tsne = new TSNE({ nComponents: 2, perplexity: job.perplexity, init: 'pca', learningRate: 'auto', randomState: job.seed, method: 'barnes_hut' });
  const embedding = tsne.fitTransform(job.X);
  return { embedding, klDivergence: tsne.klDivergence };
}

parentPort!.once('message', (job: ComputeJob) => {
  let reply: ComputeReply;
  try {
    reply = { ok: true, value: run(job) };
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? err.message : String(err), user: err instanceof UserError };
  }
  parentPort!.postMessage(reply);
});
