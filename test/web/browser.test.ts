/**
 * The viewer in a real browser (Debian's chromium driven by playwright-core), on datasets made
 * here by `run tinystories --top-k 5` on the demo model: every page drawn without a console error,
 * the logit-lens table equal to the stored ids decoded, the top-5 on hover, both datasets compared,
 * the live page streaming exactly `profile --json`, a prompt holding HTML shown as text. One
 * server, one browser. Screenshots go to $ENTROPYLENS_SCREENSHOTS when set (docs/ for the README).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { generateStories } from '../../src/datasets/demo-stories.js';
import { readResults, ResultsWriter, type ResultRow } from '../../src/store/index.js';
import { TextTokenizer } from '../../src/tokenizer/index.js';
import { assetPath } from '../../src/util/package.js';
import { tokenLabel } from '../../src/web/token-text.js';
import type { ProfileDocument } from '../../src/web/api-types.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { startViewerCli, type RunningViewer } from '../helpers/viewer.js';

const MODEL = assetPath('demo-model');
const STEPS = 3;
const K = 5;
const HTML_PROMPT = '<img src=x onerror="document.title=\'pwned\'"><script>alert(1)</script>';

/** Debian's chromium (or one named by ENTROPYLENS_CHROMIUM); undefined when there is none. */
function findChromium(): string | undefined {
  const named = process.env.ENTROPYLENS_CHROMIUM;
  if (named) return named;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const chromiumPath = findChromium();
const skip = chromiumPath ? false : 'no chromium found (apt-get install -y chromium, or set ENTROPYLENS_CHROMIUM): the browser tests are skipped';

let root: string;
let cache: string;
let viewer: RunningViewer;
let browser: Browser;
let page: Page;
const problems: string[] = [];
let shots: string | undefined;
let tokenizer: TextTokenizer;
let greedy: ResultRow[];

async function open(p: string): Promise<void> {
  await page.goto(new URL(p, viewer.url).href);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
  const err = await page.$('#app .error');
  assert.equal(err, null, `${p}: ${err ? await err.textContent() : ''}`);
}

async function shot(name: string): Promise<void> {
  if (shots) await page.screenshot({ path: path.join(shots, `viewer-${name}.png`), fullPage: true });
}

function run(out: string, extra: string[]): void {
  const stories = path.join(root, 'stories.jsonl');
  const r = runCli(['run', 'tinystories', '--model', MODEL, '--dataset', stories, '--n-stories', '2', '--max-new-tokens', String(STEPS), '--top-k', String(K), '--out', path.join(root, 'runs', out), '--cache-dir', cache, '--no-figures', ...extra]);
  assert.equal(r.code, 0, r.stderr);
}

describe('viewer in a browser', { skip }, () => {
  before(async () => {
    root = tempDir('el-viewer-browser-');
    cache = path.join(root, 'cache');
    shots = process.env.ENTROPYLENS_SCREENSHOTS ? path.resolve(process.env.ENTROPYLENS_SCREENSHOTS) : undefined;
    if (shots) fs.mkdirSync(shots, { recursive: true });
    fs.writeFileSync(path.join(root, 'stories.jsonl'), generateStories(11, 2).map((s) => JSON.stringify({ text: s.text })).join('\n') + '\n');
    run('greedy', ['--temperature', '0']);
    run('sampled', ['--temperature', '1', '--seed', '3']);
    const w = await ResultsWriter.open(path.join(root, 'runs', 'html'), { model: 'none', experiment: 'custom', labelColumns: { kind: 'string' } });
    await w.appendShard(['a', 'b', 'c'].map((id) => ({ sample_id: id, metric: 'shannon', labels: { kind: '<b>bold</b>' }, prompt: HTML_PROMPT, completion: '</pre><i>x</i>', n_steps: 1, n_layers: 2, values: [1, 2] })));
    greedy = (await readResults(path.join(root, 'runs', 'greedy'), { tokens: true })).rows;
    tokenizer = TextTokenizer.load(MODEL)!;
    viewer = await startViewerCli([path.join(root, 'runs'), '--model', MODEL, '--cache-dir', cache]);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${page.url()}: console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`${page.url()}: a dialog opened: ${d.message()}`);
      void d.dismiss();
    });
  });

  after(async () => {
    await browser?.close();
    if (viewer) assert.equal(await viewer.stop(), 0, `Ctrl-C stops the viewer cleanly; stderr: ${viewer.stderr()}`);
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('the datasets page lists every dataset', async () => {
    await open('/');
    const names = await page.$$eval('tr.dataset-row', (rows) => rows.map((r) => r.getAttribute('data-name')));
    assert.deepEqual(names.sort(), ['greedy', 'html', 'sampled']);
    await shot('datasets');
  });

  it('a dataset page draws one line per task, a heatmap per task and a map', async () => {
    await open('/datasets/greedy');
    await page.waitForSelector('#profile-layer svg');
    await page.waitForSelector('#map svg');
    const lines = await page.$$('#profile-layer g.mark-line path');
    assert.equal(lines.length, 3, 'continuation, counting, semantic');
    const legend = await page.$$eval('#profile-layer g.role-legend-label text', (t) => t.map((x) => x.textContent));
    assert.deepEqual(legend.map((l) => l?.replace(/ \(n=\d+\)$/, '')).sort(), ['continuation', 'counting', 'semantic']);
    await page.waitForFunction(() => document.querySelectorAll('.heatmaps .chart svg').length === 3);
    await page.click('#run-eval');
    await page.waitForSelector('#eval-text');
    assert.match((await page.textContent('#eval-text')) ?? '', /ROC-AUC/);
    await shot('dataset');
  });

  it("a sample's logit-lens table shows the stored top-1 tokens, and hovering a cell its top-5", async () => {
    const row = greedy[5];
    await open(`/datasets/greedy/samples/${encodeURIComponent(row.sample_id)}`);
    const L = row.n_layers;
    const cells = await page.$$eval('td.lens-cell', (tds) => tds.map((td) => ({ layer: Number(td.dataset.layer), step: Number(td.dataset.step), text: td.textContent })));
    assert.equal(cells.length, L * STEPS, 'n_layers × n_steps cells');
    const t = row.tokens!;
    for (const c of cells) {
      const id = t.topkIds[(c.step * L + c.layer) * K];
      assert.equal(c.text, tokenLabel(tokenizer.decode([id]), id), `layer ${c.layer}, step ${c.step}`);
    }
    await page.hover('td.lens-cell[data-layer="2"][data-step="1"]');
    await page.waitForSelector('#tip.visible .tip-row');
    const tip = await page.$$eval('#tip .tip-row', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    assert.equal(tip.length, K);
    tip.forEach(([tok, id, prob], j) => {
      const o = (1 * L + 2) * K + j;
      assert.equal(Number(id), t.topkIds[o]);
      assert.equal(tok, tokenLabel(tokenizer.decode([t.topkIds[o]]), t.topkIds[o]));
      assert.equal(prob, t.topkProbs[o].toFixed(4));
    });
    await shot('sample');
  });

  it('the compare page shows both datasets and a shared sample\'s difference', async () => {
    await open('/compare?datasets=greedy,sampled');
    assert.equal((await page.$$('ul.compared li')).length, 2);
    await page.waitForSelector('#compare-depth svg');
    assert.equal((await page.$$('#compare-depth g.mark-line path')).length, 2);
    await page.waitForSelector('#diff-heatmap svg');
    await shot('compare');
  });

  it('the live page streams a profile equal to profile --json on the same prompt', async () => {
    await open('/live');
    const prompt = 'Once upon a time';
    await page.fill('#prompt', prompt);
    await page.fill('#max-new-tokens', '4');
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/profile'));
    await page.click('#run');
    assert.match((await answer).headers()['content-type'], /^text\/event-stream/, 'the page asked for the stream');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('done'));
    const cli = runCli(['profile', MODEL, '--prompt', prompt, '--max-new-tokens', '4', '--top-k', '5', '--json', '--cache-dir', cache]);
    assert.equal(cli.code, 0, cli.stderr);
    const want = (JSON.parse(cli.stdout) as ProfileDocument).results[0];
    const L = want.metrics.shannon[0].length;
    // Every cell: the value (as JavaScript prints the number) and the top-1 id of profile --json, its token shown.
    const cells = await page.$$eval('#current td.lens-cell', (tds) =>
      tds.map((td) => ({ layer: Number(td.dataset.layer), step: Number(td.dataset.step), value: td.dataset.value, top1: Number(td.dataset.top1), text: td.textContent })),
    );
    assert.equal(cells.length, L * 4);
    for (const c of cells) {
      assert.equal(c.value, String(want.metrics.shannon[c.step][c.layer]), `layer ${c.layer}, step ${c.step}: value`);
      const id = want.topk!.ids[c.step][c.layer][0];
      assert.equal(c.top1, id);
      assert.equal(c.text, tokenLabel(tokenizer.decode([id]), id));
    }
    const heads = await page.$$eval('#current th.step .gen', (e) => e.map((x) => x.textContent));
    assert.deepEqual(heads, want.generated_ids.map((id) => tokenLabel(tokenizer.decode([id]), id)), 'the generated tokens head the columns');
    // pin it, and run again with block 2 skipped: two tables side by side
    await page.click('#pin');
    await page.fill('#skip-block', '2');
    await page.click('#run');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('done'));
    assert.equal((await page.$$('#pinned td.lens-cell')).length, L * 4);
    assert.equal((await page.$$('#current td.lens-cell')).length, L * 4);
    await shot('live');
  });

  it('shows a prompt holding HTML as text', async () => {
    await open('/datasets/html/samples/a');
    assert.equal(await page.textContent('#prompt'), HTML_PROMPT);
    assert.equal(await page.textContent('#completion'), '</pre><i>x</i>');
    assert.equal(await page.$$eval('#app img, #app script, #app i, #app b', (e) => e.length), 0, 'no element made from the text');
    assert.notEqual(await page.title(), 'pwned');
    await open('/datasets/html');
    await page.waitForSelector('#samples');
    assert.equal(await page.$$eval('#app img, #app script, #app i, #app b', (e) => e.length), 0);
  });

  it('no page logged an error or a warning', () => {
    assert.deepEqual(problems, []);
  });
});
