/**
 * Every request to the hub goes through here: a deadline for the answer's headers, an idle timeout
 * on its body (no byte for that long aborts it), and retries with backoff for network failures and
 * timeouts, so a stalled or trickling server ends in a message instead of a hang.
 */

/** A request that produced nothing for too long; `phase` says whether the headers or the body stalled. */
export class HubTimeoutError extends Error {
  constructor(
    readonly seconds: number,
    readonly phase: 'headers' | 'body',
  ) {
    super(`no ${phase === 'headers' ? 'answer' : 'data'} for ${seconds} s`);
    this.name = 'HubTimeoutError';
  }
}

export interface TimedFetchOptions {
  /** Seconds to wait for the response headers, and then for each chunk of the body. */
  timeoutSeconds: number;
}

/**
 * fetch with a headers deadline and a body idle timeout. The returned Response's body re-arms the
 * timer on every chunk; a stall rejects the reader with HubTimeoutError. Timers are unref'd: they
 * never keep the process alive on their own (a pending socket does, and then they fire).
 */
export async function timedFetch(url: string, init: RequestInit, o: TimedFetchOptions): Promise<Response> {
  const ms = Math.max(1, Math.round(o.timeoutSeconds * 1000));
  const ac = new AbortController();
  let phase: 'headers' | 'body' = 'headers';
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(new HubTimeoutError(o.timeoutSeconds, phase)), ms);
    timer.unref();
  };
  const disarm = (): void => clearTimeout(timer);
  arm();
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: ac.signal });
  } catch (err) {
    disarm();
    throw ac.signal.aborted && ac.signal.reason instanceof HubTimeoutError ? ac.signal.reason : err;
  }
  // No body to watch (HEAD, 204, 304, …): the deadline has done its work.
  if (!res.body || [101, 103, 204, 205, 304].includes(res.status)) {
    disarm();
    return res;
  }
  phase = 'body';
  arm();
  const source = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await source.read();
        if (done) {
          disarm();
          controller.close();
          return;
        }
        arm();
        controller.enqueue(value);
      } catch (err) {
        disarm();
        controller.error(ac.signal.aborted && ac.signal.reason instanceof HubTimeoutError ? ac.signal.reason : err);
      }
    },
    async cancel(reason) {
      disarm();
      await source.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** True for failures worth another attempt: no connection, a reset (fetch's TypeError), a timeout — never an HTTP status. */
export function isTransient(err: unknown): boolean {
  return err instanceof HubTimeoutError || err instanceof TypeError;
}

export function backoffMs(attempt: number): number {
  return Math.min(2000, 50 * 2 ** attempt);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Run `attempt` up to `attempts` times while it fails transiently, waiting a little longer each time.
 * The last failure is rethrown.
 */
export async function withRetries<T>(attempts: number, attempt: (n: number) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let n = 0; n < attempts; n++) {
    if (n > 0) await sleep(backoffMs(n));
    try {
      return await attempt(n);
    } catch (err) {
      if (!isTransient(err)) throw err;
      last = err;
    }
  }
  throw last;
}
