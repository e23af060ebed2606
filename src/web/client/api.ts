/** The page's calls to the viewer's JSON API (src/web/api-types.ts), and the live stream (server-sent events over POST). */
import type { ApiError } from '../api-types.js';

async function failure(res: Response): Promise<Error> {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as ApiError;
    if (body.error) msg = body.error;
  } catch {
    // not JSON: keep the status line
  }
  return new Error(msg);
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  const url = qs ? `${path}?${qs}` : path;
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** The API path of a dataset. */
export function datasetApi(name: string): string {
  return `/api/datasets/${encodeURIComponent(name)}`;
}

/** POST a JSON body and read the answer as server-sent events: `onEvent(name, data)` per event. */
export async function postStream(path: string, body: unknown, onEvent: (event: string, data: unknown) => void, signal?: AbortSignal): Promise<void> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(body), signal });
  if (!res.ok) throw await failure(res);
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    onEvent('result', await res.json()); // answered at once (e.g. nothing to stream)
    return;
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      onEvent(event, data ? JSON.parse(data) : null);
    }
  }
}
