/** The page's files (built by tools/build-web.ts into dist/web), held in memory: the only files the viewer serves. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';

export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** dist/web, next to dist/src where this module runs from. */
export function bundleDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
}

/** index.html and the files under /assets/, by name. */
export function loadBundle(dir = bundleDir()): { index: Asset; assets: Map<string, Asset> } {
  const read = (name: string): Asset => {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new UserError(`the viewer's page is not built (${file} is missing): run npm run build`);
    return { body: fs.readFileSync(file), type: TYPES[path.extname(name)] ?? 'application/octet-stream' };
  };
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) if (name !== 'index.html' && TYPES[path.extname(name)]) assets.set(name, read(name));
  return { index: read('index.html'), assets };
}
