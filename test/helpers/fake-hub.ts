/**
 * A stand-in for the Hugging Face hub on 127.0.0.1, serving small fake repos over the routes the hub
 * client uses: the tree API (paginated through a Link header), `/resolve/` with the hub's headers
 * (X-Repo-Commit, ETag, X-Linked-Etag/-Size for LFS files, X-Error-Code on failures), redirects of
 * LFS files to a CDN path, and Range requests. It records every request so tests can count them,
 * and can drop a connection half-way through a file once, to exercise resuming.
 *
 * It can also be hostile: a file may carry headers that replace the hub's (an ETag or X-Repo-Commit
 * with `../`), and `misbehave` makes matching requests stall, trickle or paginate forever.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  path: string;
  content: Buffer | string;
  /** Stored in LFS: served through a redirect, named by its sha256 in the cache. */
  lfs?: boolean;
  /** Headers that replace the hub's on /resolve/ answers for this file (e.g. a hostile `etag` or `x-repo-commit`). */
  headers?: Record<string, string>;
}

/**
 * How a request can go wrong on purpose:
 * - `stall`: accept the request, never answer;
 * - `trickle`: answer the headers, then send one byte of the body every `intervalMs`;
 * - `self-link`: (tree API) answer the page with a `Link: rel="next"` pointing at the same URL;
 * - `endless-pages`: (tree API) every page links a new next page, forever;
 * - `foreign-link`: (tree API) a next-page link to `url` (another server);
 * - `as-file`: answer as /resolve/ would for `path` of repo `id` (whatever URL was asked for);
 * - `answer`: this status, these headers and this body, whatever was asked.
 */
export type Misbehaviour =
  | { kind: 'stall' }
  | { kind: 'trickle'; intervalMs: number }
  | { kind: 'self-link' }
  | { kind: 'endless-pages' }
  | { kind: 'foreign-link'; url: string }
  | { kind: 'as-file'; type: 'model' | 'dataset'; id: string; path: string }
  | { kind: 'answer'; status: number; headers: Record<string, string>; body?: string };

export interface FakeRepo {
  type: 'model' | 'dataset';
  id: string;
  files: FakeFile[];
  /** Answer 401 GatedRepo unless the request carries `Bearer {token}`. */
  gatedToken?: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

interface StoredFile {
  path: string;
  content: Buffer;
  lfs: boolean;
  gitSha: string;
  sha256: string;
  headers: Record<string, string>;
}

interface StoredRepo {
  type: 'model' | 'dataset';
  id: string;
  commit: string;
  files: Map<string, StoredFile>;
  gatedToken: string | undefined;
}

export function gitBlobSha(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  url = '';
  /** Page size of the tree API; small values exercise pagination. */
  pageSize = 1000;
  private readonly repos = new Map<string, StoredRepo>();
  private readonly drops = new Map<string, number>();
  private misbehaviours: { re: RegExp; m: Misbehaviour; left: number }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: Server;

  constructor(repos: FakeRepo[]) {
    for (const r of repos) {
      const files = new Map<string, StoredFile>();
      for (const f of r.files) {
        const content = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
        files.set(f.path, { path: f.path, content, lfs: Boolean(f.lfs), gitSha: gitBlobSha(content), sha256: sha256(content), headers: f.headers ?? {} });
      }
      const commit = createHash('sha1').update(`${r.type}/${r.id}`).digest('hex');
      this.repos.set(`${r.type}/${r.id}`, { type: r.type, id: r.id, commit, files, gatedToken: r.gatedToken });
    }
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.behave();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  commitOf(type: 'model' | 'dataset', id: string): string {
    return this.repos.get(`${type}/${id}`)!.commit;
  }

  file(type: 'model' | 'dataset', id: string, path: string): StoredFile {
    return this.repos.get(`${type}/${id}`)!.files.get(path)!;
  }

  /** The next GET of this file's bytes sends `afterBytes` bytes, then drops the connection. */
  dropOnce(type: 'model' | 'dataset', id: string, path: string, afterBytes: number): void {
    this.drops.set(this.file(type, id, path).sha256, afterBytes);
  }

  requestsMatching(re: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => re.test(r.url));
  }

  /** Requests whose `METHOD url` matches `re` misbehave as `m`, the next `times` times (default: always). */
  misbehave(re: RegExp, m: Misbehaviour, times = Infinity): void {
    this.misbehaviours.push({ re, m, left: times });
  }

  /** Back to good behaviour; trickles in progress stop. */
  behave(): void {
    this.misbehaviours = [];
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
  }

  private misbehaviourFor(req: IncomingMessage): Misbehaviour | undefined {
    const key = `${req.method ?? 'GET'} ${req.url ?? '/'}`;
    const hit = this.misbehaviours.find((b) => b.left > 0 && b.re.test(key));
    if (!hit) return undefined;
    hit.left--;
    return hit.m;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    this.requests.push({ method: req.method ?? 'GET', url, range: req.headers.range, authorization: req.headers.authorization });
    const bad = this.misbehaviourFor(req);
    if (bad?.kind === 'stall') return; // the socket stays open, nothing is ever written
    if (bad?.kind === 'trickle') return this.trickle(res, bad.intervalMs);
    if (bad?.kind === 'as-file') return this.resolve(req, res, bad.type, bad.id, 'main', bad.path);
    if (bad?.kind === 'answer') {
      res.writeHead(bad.status, bad.headers);
      res.end(bad.body ?? '');
      return;
    }
    this.linkOverride = bad;
    const { pathname, searchParams } = new URL(url, 'http://x');
    let m = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(pathname);
    if (m) return this.tree(req, res, m[1] === 'datasets' ? 'dataset' : 'model', m[2]!, decodeURIComponent(m[3]!), m[4] ?? '', searchParams);
    m = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(pathname);
    if (m) {
      const path = m[4]!.split('/').map(decodeURIComponent).join('/');
      return this.resolve(req, res, m[1] ? 'dataset' : 'model', m[2]!, decodeURIComponent(m[3]!), path);
    }
    m = /^\/cdn\/([0-9a-f]{64})$/.exec(pathname);
    if (m) return this.cdn(req, res, m[1]!);
    this.fail(res, 404, null, 'Not found');
  }

  private linkOverride: Misbehaviour | undefined;

  /** 200 with a 1 MB Content-Length, then one byte every `intervalMs`, forever. */
  private trickle(res: ServerResponse, intervalMs: number): void {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1_000_000) });
    res.flushHeaders();
    const t = setInterval(() => {
      if (res.destroyed) {
        clearInterval(t);
        this.timers.delete(t);
        return;
      }
      res.write('x');
    }, intervalMs);
    this.timers.add(t);
  }

  private fail(res: ServerResponse, status: number, code: string | null, message: string): void {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-error-message': message };
    if (code) headers['x-error-code'] = code;
    res.writeHead(status, headers);
    res.end(JSON.stringify({ error: message }));
  }

  /** Repo + revision checks shared by the API and /resolve/; returns undefined after answering an error. */
  private repoFor(req: IncomingMessage, res: ServerResponse, type: 'model' | 'dataset', id: string, rev: string): StoredRepo | undefined {
    const repo = this.repos.get(`${type}/${id}`);
    if (!repo) {
      this.fail(res, 404, 'RepoNotFound', 'Repository not found');
      return undefined;
    }
    if (repo.gatedToken && req.headers.authorization !== `Bearer ${repo.gatedToken}`) {
      this.fail(res, 401, 'GatedRepo', 'Access to this repo is restricted: you must have access to it and be authenticated.');
      return undefined;
    }
    if (rev !== 'main' && rev !== repo.commit) {
      this.fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      return undefined;
    }
    return repo;
  }

  private tree(
    req: IncomingMessage,
    res: ServerResponse,
    type: 'model' | 'dataset',
    id: string,
    rev: string,
    under: string,
    params: URLSearchParams,
  ): void {
    const repo = this.repoFor(req, res, type, id, rev);
    if (!repo) return;
    const recursive = params.get('recursive') === 'true';
    const prefix = under ? `${under.replace(/\/$/, '')}/` : '';
    const entries: object[] = [];
    const dirs = new Set<string>();
    for (const f of [...repo.files.values()].sort((a, b) => a.path.localeCompare(b.path))) {
      if (!f.path.startsWith(prefix)) continue;
      const rest = f.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) {
        // Like the hub, a recursive listing names the folders as well as the files in them.
        const parts = rest.split('/');
        const upto = recursive ? parts.length - 1 : 1;
        for (let i = 1; i <= upto; i++) {
          const dir = prefix + parts.slice(0, i).join('/');
          if (!dirs.has(dir)) {
            dirs.add(dir);
            entries.push({ type: 'directory', oid: gitBlobSha(Buffer.from(dir)), size: 0, path: dir });
          }
        }
        if (!recursive) continue;
      }
      entries.push({
        type: 'file',
        oid: f.gitSha,
        size: f.lfs ? 130 : f.content.length,
        path: f.path,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.content.length, pointerSize: 130 } } : {}),
      });
    }
    const cursor = Number(params.get('cursor') ?? 0);
    const page = entries.slice(cursor, cursor + this.pageSize);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const bad = this.linkOverride;
    if (bad?.kind === 'self-link') headers['link'] = `<${new URL(req.url ?? '/', this.url).toString()}>; rel="next"`;
    else if (bad?.kind === 'foreign-link') headers['link'] = `<${bad.url}>; rel="next"`;
    else if (bad?.kind === 'endless-pages') {
      const next = new URL(req.url ?? '/', this.url);
      next.searchParams.set('endless', String(Number(params.get('endless') ?? 0) + 1));
      headers['link'] = `<${next.toString()}>; rel="next"`;
    }
    else if (cursor + this.pageSize < entries.length) {
      const next = new URL(req.url ?? '/', this.url);
      next.searchParams.set('cursor', String(cursor + this.pageSize));
      headers['link'] = `<${next.toString()}>; rel="next"`;
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify(page));
  }

  private resolve(req: IncomingMessage, res: ServerResponse, type: 'model' | 'dataset', id: string, rev: string, path: string): void {
    const repo = this.repoFor(req, res, type, id, rev);
    if (!repo) return;
    const file = repo.files.get(path);
    if (!file) return this.fail(res, 404, 'EntryNotFound', 'Entry not found');
    if (file.lfs) {
      res.writeHead(302, {
        location: `${this.url}/cdn/${file.sha256}`,
        etag: `"${gitBlobSha(Buffer.from(`pointer ${file.sha256}`))}"`,
        'x-linked-etag': `"${file.sha256}"`,
        'x-linked-size': String(file.content.length),
        'x-repo-commit': repo.commit,
        'content-length': '0',
        ...file.headers,
      });
      res.end();
      return;
    }
    this.sendBytes(req, res, file.content, { etag: `"${file.gitSha}"`, 'x-repo-commit': repo.commit, ...file.headers }, undefined);
  }

  private cdn(req: IncomingMessage, res: ServerResponse, sha: string): void {
    for (const repo of this.repos.values()) {
      for (const f of repo.files.values()) {
        if (f.lfs && f.sha256 === sha) return this.sendBytes(req, res, f.content, {}, sha);
      }
    }
    this.fail(res, 404, null, 'Not found');
  }

  private sendBytes(req: IncomingMessage, res: ServerResponse, content: Buffer, extra: Record<string, string>, dropKey: string | undefined): void {
    let start = 0;
    let end = content.length - 1;
    let status = 200;
    const range = req.headers.range;
    const headers: Record<string, string> = { ...extra, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m || Number(m[1]) >= content.length) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${content.length}` });
        res.end();
        return;
      }
      start = Number(m[1]);
      if (m[2]) end = Math.min(end, Number(m[2]));
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${content.length}`;
    }
    const body = content.subarray(start, end + 1);
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const drop = dropKey !== undefined ? this.drops.get(dropKey) : undefined;
    if (drop !== undefined && drop < body.length) {
      this.drops.delete(dropKey!);
      res.write(body.subarray(0, drop), () => {
        // Give the bytes time to leave before cutting the socket, as a real network failure would.
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(body);
  }
}

export async function startFakeHub(repos: FakeRepo[]): Promise<FakeHub> {
  return new FakeHub(repos).start();
}
