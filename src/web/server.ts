/** Starts the viewer: finds the datasets, loads them (and the live model), listens, and stops cleanly. */
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { loadBundle } from './bundle.js';
import { discoverDatasets } from './catalog.js';
import { ComputePool } from './compute.js';
import { DatasetSlot } from './slot.js';
import { LiveProfiler, type LiveOptions } from './live.js';

export const DEFAULT_PORT = 8765;
export const DEFAULT_HOST = '127.0.0.1';

export interface ViewerOptions {
  paths: string[];
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Live profiling with this model (folder or hub id). */
  live?: LiveOptions;
  /** Per heavy computation (evaluation, t-SNE) and per live run. */
  timeoutMs?: number;
  bodyLimit?: number;
  /** How often (ms) a request may look whether a dataset's files changed (a run still writing it); default 2000. */
  refreshMs?: number;
  /** Report a dataset that failed to load (it then answers its requests with the error). */
  onLoadError?: (name: string, err: unknown) => void;
}

export interface Viewer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export async function startViewer(o: ViewerOptions): Promise<Viewer> {
  const host = o.host ?? DEFAULT_HOST;
  const entries = await discoverDatasets(o.paths);
  const bundle = loadBundle();
  const datasets = new Map(entries.map((e) => [e.name, new DatasetSlot(e, o.onLoadError, o.refreshMs)] as const));
  const live = o.live ? LiveProfiler.start(o.live) : undefined;
  live?.catch(() => {}); // reported to each request that needs it
  let port = 0;
  const app = await createApp({
    datasets,
    live,
    compute: new ComputePool({ maxQueue: 4, timeoutMs: o.timeoutMs ?? 120_000 }),
    bundle,
    bodyLimit: o.bodyLimit ?? 64 * 1024,
    // Bound to loopback, only the loopback names are accepted (a page elsewhere cannot reach in by DNS rebinding).
    allowedHosts: isLoopback(host) ? () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) : undefined,
  });
  await app.listen({ host, port: o.port ?? DEFAULT_PORT });
  port = (app.server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: async () => {
      await app.close();
      if (live) await (await live.catch(() => undefined))?.close();
    },
  };
}
