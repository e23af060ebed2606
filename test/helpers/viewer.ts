/** Helpers for the viewer's tests: a raw HTTP request (paths sent byte for byte), and the viewer run as users run it. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { CLI } from './run-cli.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `path` exactly as given (no client-side normalisation of `..`, `%2e`, backslashes). */
export function rawRequest(port: number, path: string, opts: { method?: string; host?: string; body?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d) => (data += d));
    sock.on('error', reject);
    sock.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status, headers, body: Buffer.from(rest.join('\r\n\r\n'), 'latin1').toString('utf8') });
    });
    const body = opts.body ?? '';
    const extra = Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.write(`${opts.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: ${opts.host ?? `127.0.0.1:${port}`}\r\nConnection: close\r\n${extra}${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`);
  });
}

export interface RunningViewer {
  url: string;
  port: number;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** `entropylens view ARGS --port 0`, resolved once it printed its address (its first line). */
export function startViewerCli(args: string[], env: Record<string, string> = {}): Promise<RunningViewer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'view', ...args, '--port', '0'], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => reject(new Error(`the viewer printed no address in 30 s; stderr: ${err}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`the viewer exited (${code}): ${err}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const first = out.split('\n');
      if (first.length < 2) return;
      clearTimeout(timer);
      const m = /^entropylens viewer: (http:\/\/127\.0\.0\.1:(\d+)\/)$/.exec(first[0]);
      if (!m) return reject(new Error(`unexpected first line: ${first[0]}`));
      resolve({
        url: m[1],
        port: Number(m[2]),
        child,
        stderr: () => err,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            child.removeAllListeners('exit');
            child.on('exit', (code) => done(code));
            child.kill('SIGINT');
          }),
      });
    });
  });
}
