/** `entropylens view`: the local web viewer for results datasets (and live profiling with --model). */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';
import { intArg, threadsArg } from '../args.js';

interface ViewFlags {
  model?: string;
  port: string;
  host: string;
  open?: boolean;
  cacheDir?: string;
  threads: string;
  maxNewTokens: string;
  queue: string;
  requestTimeout: string;
}

/** The desktop's way of opening a URL in the default browser. */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`could not start ${cmd}; open ${url} yourself\n`));
  child.unref();
}

export function register(program: Command): void {
  program
    .command('view')
    .description('Open results datasets (and live profiling with --model) in a local web viewer')
    .argument('<paths...>', 'results datasets, .parquet files, or folders that hold datasets')
    .option('--model <model>', 'also profile new prompts live with this model (folder or hub id)')
    .option('--port <n>', 'port to listen on; 0 = any free port (the printed URL says which)', '8765')
    .option('--host <addr>', 'address to listen on; anything but 127.0.0.1 exposes the viewer to the network', '127.0.0.1')
    .option('--open', 'open the viewer in the default browser')
    .option('--max-new-tokens <n>', 'the most tokens a live run may generate', '64')
    .option('--queue <n>', 'live runs that may wait behind the running one (more get HTTP 429)', '4')
    .option('--request-timeout <s>', 'seconds a live run or a computation (evaluation, t-SNE) may take', '120')
    .option('--cache-dir <dir>', 'weight/graph cache for --model (default ~/.cache/entropylens)')
    .option('--threads <n>', 'CPU threads for ONNX Runtime (--model); 0 = one per core', '0')
    .addHelpText(
      'after',
      `
Examples:
  entropylens view runs/tinystories-gpt2 runs/mmlu-gpt2
  entropylens view runs/ --model ./gpt2 --open

The first line printed is the viewer's address, e.g. "entropylens viewer: http://127.0.0.1:8765/".
Ctrl-C stops it. Pages: / (datasets), /datasets/NAME, /datasets/NAME/samples/ID,
/compare?datasets=A,B, /live; the JSON API under /api/ is described in the README.`,
    )
    .action(async (paths: string[], f: ViewFlags) => {
      const port = intArg(f.port, '--port', 0);
      if (port > 65535) throw new UserError(`--port must be ≤ 65535, got ${port}`);
      const timeoutMs = intArg(f.requestTimeout, '--request-timeout', 1) * 1000;
      const { startViewer, isLoopback } = await import('../../web/server.js');
      const viewer = await startViewer({
        paths,
        host: f.host,
        port,
        timeoutMs,
        live: f.model
          ? {
              model: f.model,
              cacheDir: f.cacheDir,
              threads: threadsArg(f.threads),
              maxQueue: intArg(f.queue, '--queue', 0),
              timeoutMs,
              maxNewTokens: intArg(f.maxNewTokens, '--max-new-tokens', 1),
              maxPromptChars: 20_000,
            }
          : undefined,
        onLoadError: (name, err) => process.stderr.write(`entropylens viewer: dataset ${name}: ${err instanceof Error ? err.message : String(err)}\n`),
      });
      process.stdout.write(`entropylens viewer: ${viewer.url}\n`);
      if (!isLoopback(f.host)) {
        process.stderr.write(`warning: listening on ${f.host}: anyone who can reach this machine can read these datasets${f.model ? ' and run the model' : ''}\n`);
      }
      if (f.open) openBrowser(viewer.url);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stdout.write('entropylens viewer: stopping\n');
          viewer.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
