/**
 * Runs one heavy job at a time in a fresh worker thread (compute-worker.ts), with a time limit, a
 * bounded queue, and cancellation; identical jobs asked again share one run through the callers' caches.
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import { HttpError } from './errors.js';
import type { ComputeJob, ComputeReply } from './compute-worker.js';

export interface ComputeOptions {
  /** Jobs waiting behind the running one before new ones are refused with 429. */
  maxQueue: number;
  /** Per job, from its start. */
  timeoutMs: number;
}

export class ComputePool {
  private running = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly o: ComputeOptions) {}

  async run<T>(job: ComputeJob): Promise<T> {
    if (this.running) {
      if (this.waiting.length >= this.o.maxQueue) throw new HttpError(429, `the viewer is busy computing (${this.waiting.length} more waiting); try again shortly`);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running = true;
    try {
      return await this.inWorker<T>(job);
    } finally {
      this.running = false;
      this.waiting.shift()?.();
    }
  }

  private inWorker<T>(job: ComputeJob): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const worker = new Worker(new URL('./compute-worker.js', import.meta.url));
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new HttpError(503, `the computation took longer than ${Math.round(this.o.timeoutMs / 1000)} s and was stopped; try fewer samples (filter) or a smaller method`));
      }, this.o.timeoutMs);
      worker.once('message', (reply: ComputeReply) => {
        clearTimeout(timer);
        void worker.terminate();
        if (reply.ok) resolve(reply.value as T);
        else reject(reply.user ? new UserError(reply.error) : new Error(reply.error));
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      worker.postMessage(job);
    });
  }
}
