/**
 * Builds the viewer's page into dist/web: the TypeScript front end (src/web/client) bundled by
 * esbuild with everything it imports (vega, vega-lite, the figure specs of src/plot), so the
 * viewer works offline; plus index.html, the stylesheet and the icon.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = path.join(root, 'src', 'web', 'client');
const out = path.join(root, 'dist', 'web');

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [path.join(src, 'main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  legalComments: 'external',
  outfile: path.join(out, 'app.js'),
  logLevel: 'warning',
  metafile: true,
});
fs.copyFileSync(path.join(src, 'index.html'), path.join(out, 'index.html'));
fs.copyFileSync(path.join(src, 'style.css'), path.join(out, 'app.css'));
fs.copyFileSync(path.join(src, 'icon.svg'), path.join(out, 'icon.svg'));
const kb = Math.round(fs.statSync(path.join(out, 'app.js')).size / 1024);
if (result.warnings.length === 0) process.stdout.write(`viewer page: dist/web/app.js ${kb} KiB\n`);
