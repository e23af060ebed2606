/** The viewer's page: one script for every URL, which draws the page the path names. */
import { clear, el, errorBox } from './dom.js';
import { comparePage } from './pages/compare.js';
import { datasetPage } from './pages/dataset.js';
import { datasetsPage } from './pages/datasets.js';
import { livePage } from './pages/live.js';
import { samplePage } from './pages/sample.js';

async function route(root: HTMLElement): Promise<void> {
  const path = location.pathname;
  let m: RegExpExecArray | null;
  if (path === '/') return datasetsPage(root);
  if (path === '/compare') return comparePage(root);
  if (path === '/live') return livePage(root);
  if ((m = /^\/datasets\/([^/]+)\/samples\/([^/]+)$/.exec(path))) return samplePage(root, decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  if ((m = /^\/datasets\/([^/]+)$/.exec(path))) return datasetPage(root, decodeURIComponent(m[1]));
  root.append(el('h1', {}, 'Not found'));
}

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  clear(root);
  try {
    await route(root);
    document.title = `${document.querySelector('h1')?.textContent ?? 'entropylens'} · entropylens viewer`;
  } catch (err) {
    root.append(errorBox(err));
  }
  document.body.dataset.ready = 'true'; // the page is drawn (the browser tests wait for this)
}

void main();
