import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import {
  compileSpec,
  svgToPng,
  depthCurves,
  heatmap,
  labelProfiles,
  meanBand,
  metricAxisTitle,
  renderSpec,
  scatter,
  sharedDomain,
  DEPTH_AXIS_TITLE,
  LAYER_AXIS_TITLE,
} from '../../src/plot/index.js';
import type { ProfileRow, Spec } from '../../src/plot/index.js';
import { parseAdvanceWidths, textWidth } from '../../src/plot/fontmetrics.js';
import { UserError } from '../../src/util/errors.js';

/** The data values embedded in a spec (all figures embed their data inline). */
function specValues(spec: Spec): Record<string, unknown>[] {
  const data = (spec as { data?: { values?: Record<string, unknown>[] } }).data;
  assert.ok(data?.values, 'spec has inline data');
  return data.values;
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngInfo(buf: Buffer): { width: number; height: number; inkFraction: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(buf.toString('latin1', 12, 16), 'IHDR');
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const bitDepth = buf[24];
  const colorType = buf[25];
  assert.equal(bitDepth, 8);
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : colorType === 0 ? 1 : colorType === 4 ? 2 : 0;
  assert.ok(channels > 0, `unexpected PNG colour type ${colorType}`);
  // Concatenate IDAT and inflate: count bytes that are not white, to know something was drawn.
  const idat: Buffer[] = [];
  for (let off = 8; off < buf.length; ) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (type === 'IDAT') idat.push(buf.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (1 + width * channels), 'inflated size matches the header');
  // Undo the scanline filters (PNG spec §9) and count pixels that are not white.
  const stride = width * channels;
  let prev = new Uint8Array(stride);
  let ink = 0;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = (line[i] + pred) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      let white = true;
      for (let ch = 0; ch < Math.min(channels, 3); ch++) if (cur[x * channels + ch] < 250) white = false;
      if (!white) ink++;
    }
    prev = cur;
  }
  return { width, height, inkFraction: ink / (width * height) };
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  assert.ok(m, 'svg has width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Deterministic pseudo-noise (no dependency on the project's RNG). */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

function syntheticRows(): ProfileRow[] {
  const models = [
    { model: 'gpt2-small', family: 'gpt2', L: 12, size: 124e6 },
    { model: 'gpt2-medium', family: 'gpt2', L: 24, size: 355e6 },
    { model: 'qwen3-1.7b', family: 'qwen3', L: 28, size: 1.7e9 },
  ];
  const rows: ProfileRow[] = [];
  let k = 0;
  for (const m of models) {
    for (let s = 0; s < 5; s++) {
      rows.push({
        model: m.model,
        family: m.family,
        sizeParams: m.size,
        label: s % 2 === 0 ? 'even' : 'odd',
        nLayers: m.L,
        values: Array.from({ length: m.L }, (_, l) => 8 - 5 * ((l + 1) / m.L) ** 3 + noise(k++)),
      });
    }
  }
  return rows;
}

describe('metricAxisTitle', () => {
  it('names the metric and its unit', () => {
    assert.equal(metricAxisTitle('shannon'), 'Shannon entropy (nats)');
    assert.equal(metricAxisTitle('renyi:0.5'), 'Rényi-0.5 entropy (nats)');
    assert.equal(metricAxisTitle('renyi:inf'), 'Rényi-∞ entropy (nats)');
    assert.equal(metricAxisTitle('kl:final'), 'KL(layer ‖ final layer) (nats)');
    assert.equal(metricAxisTitle('thresholded:shannon'), 'thresholded Shannon entropy (nats)');
    assert.equal(metricAxisTitle('anchored:renyi:5'), 'anchored Rényi-5 entropy (nats)');
    assert.match(metricAxisTitle('moment:2'), /p\^2.*unitless/);
    assert.equal(metricAxisTitle('something-else'), 'something-else');
  });
});

describe('meanBand', () => {
  it('is mean ± 1.96·sd/√n with the sample standard deviation', () => {
    const samples = [
      [1, 2, 10],
      [3, 4, 10],
      [5, 9, 10],
    ];
    const b = meanBand(samples);
    // Column 0: 1, 3, 5 → mean 3, sample variance (4 + 0 + 4) / 2 = 4, sd 2.
    // Column 1: 2, 4, 9 → mean 5, sample variance (9 + 1 + 16) / 2 = 13.
    // Column 2: constant → zero-width band.
    const half0 = (1.96 * 2) / Math.sqrt(3);
    const half1 = (1.96 * Math.sqrt(13)) / Math.sqrt(3);
    assert.equal(b.n, 3);
    assert.deepEqual(b.mean, [3, 5, 10]);
    assert.ok(Math.abs(b.lo[0] - (3 - half0)) < 1e-12 && Math.abs(b.hi[0] - (3 + half0)) < 1e-12);
    assert.ok(Math.abs(b.lo[1] - (5 - half1)) < 1e-12 && Math.abs(b.hi[1] - (5 + half1)) < 1e-12);
    assert.equal(b.lo[2], 10);
    assert.equal(b.hi[2], 10);
  });

  it('collapses to the value for one sample and skips non-finite entries', () => {
    const one = meanBand([[4, 5]]);
    assert.deepEqual([one.lo, one.hi], [[4, 5], [4, 5]]);
    const gap = meanBand([[1], [NaN], [3]]);
    const half = (1.96 * Math.SQRT2) / Math.sqrt(2); // values 1, 3: sd √2, n 2
    assert.ok(Math.abs(gap.hi[0] - (2 + half)) < 1e-12);
  });

  it('refuses profiles of different lengths', () => {
    assert.throws(() => meanBand([[1, 2], [1]]), UserError);
  });
});

describe('figure specs', () => {
  const rows = syntheticRows();

  it('depthCurves puts each model on (l+1)/L with its own band', () => {
    const spec = depthCurves(rows, { metric: 'shannon', groupBy: 'family' });
    const values = specValues(spec);
    const small = values.filter((v) => v.series === 'gpt2-small');
    assert.equal(small.length, 12);
    const smallRows = rows.filter((r) => r.model === 'gpt2-small');
    for (let l = 0; l < 12; l++) {
      const col = smallRows.map((r) => r.values[l]);
      const n = col.length;
      const mean = col.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      const p = small.find((v) => Math.abs((v.x as number) - (l + 1) / 12) < 1e-12);
      assert.ok(p, `point at layer ${l}`);
      assert.ok(Math.abs((p.mean as number) - mean) < 1e-12);
      assert.ok(Math.abs((p.lo as number) - (mean - (1.96 * sd) / Math.sqrt(n))) < 1e-12);
      assert.ok(Math.abs((p.hi as number) - (mean + (1.96 * sd) / Math.sqrt(n))) < 1e-12);
      assert.equal(p.panel, 'gpt2');
    }
    assert.deepEqual(new Set(values.map((v) => v.panel)), new Set(['gpt2', 'qwen3']));
    assert.equal(Math.max(...values.map((v) => v.x as number)), 1);
  });

  it('depthCurves by label draws one line per label and model', () => {
    const values = specValues(depthCurves(rows, { metric: 'renyi:0.5', groupBy: 'label' }));
    assert.deepEqual(new Set(values.map((v) => v.series)), new Set(['even', 'odd']));
    assert.equal(values.filter((v) => v.panel === 'qwen3-1.7b' && v.series === 'odd').length, 28);
  });

  it('labelProfiles bands each label over the layer index', () => {
    const lr = [
      { label: 'b', values: [1, 2, 3] },
      { label: 'a', values: [2, 2, 2] },
      { label: 'b', values: [3, 6, 3] },
    ];
    const values = specValues(labelProfiles(lr, { metric: 'shannon' }));
    const b1 = values.find((v) => v.series === 'b' && v.x === 1);
    // layer 1 of label b: 2 and 6 → mean 4, sd 2√2, half 1.96·2√2/√2 = 3.92
    assert.ok(b1);
    assert.ok(Math.abs((b1.mean as number) - 4) < 1e-12);
    assert.ok(Math.abs((b1.lo as number) - (4 - 3.92)) < 1e-12);
    assert.ok(Math.abs((b1.hi as number) - (4 + 3.92)) < 1e-12);
    assert.deepEqual(values.filter((v) => v.series === 'a').map((v) => v.x), [0, 1, 2]);
  });

  it('every figure compiles with vega-lite without warnings', () => {
    const specs: [string, Spec][] = [
      ['depth/family', depthCurves(rows, { metric: 'shannon', groupBy: 'family' })],
      ['depth/model', depthCurves(rows, { metric: 'shannon', groupBy: 'model' })],
      ['depth/label', depthCurves(rows, { metric: 'shannon', groupBy: 'label' })],
      ['depth/label one model', depthCurves(rows.slice(0, 5), { metric: 'shannon', groupBy: 'label' })],
      ['heatmap', heatmap([[1, 2, NaN], [3, 4, 5]], { metric: 'kl:next' })],
      ['scatter sized', scatter([{ x: 0, y: 1, color: 'a', size: 1e9 }, { x: 2, y: 3, color: 'b', size: 2e8 }], { colorTitle: 'family', sizeTitle: 'parameters' })],
      ['scatter', scatter([{ x: 0, y: 1, color: 'a' }], { colorTitle: 'label' })],
      ['labels', labelProfiles([{ label: 'x', values: [1, 2] }], { metric: 'moment:2' })],
    ];
    for (const [name, spec] of specs) {
      const { warnings } = compileSpec(spec);
      assert.deepEqual(warnings, [], `${name}: ${warnings.join('; ')}`);
    }
  });

  it('sharedDomain spans the finite values of every matrix; heatmaps given it share one clamped scale', () => {
    const a = [[0.5, 2], [NaN, 1]];
    const b = [[3, Infinity], [-1, 0]];
    assert.deepEqual(sharedDomain([a, b]), [-1, 3]);
    assert.equal(sharedDomain([[[NaN]]]), undefined);
    const scale = (s: Spec): unknown => ((s as { encoding: { color: { scale: unknown } } }).encoding.color.scale);
    assert.deepEqual(scale(heatmap(a, { metric: 'shannon', domain: [-1, 3] })), { scheme: 'viridis', domain: [-1, 3], clamp: true });
    assert.deepEqual(scale(heatmap(a, { metric: 'shannon', diverging: true })), { scheme: 'blueorange', domain: [-2, 2] });
  });

  it('refuses malformed input with a UserError', () => {
    assert.throws(() => depthCurves([], { metric: 'shannon', groupBy: 'model' }), UserError);
    assert.throws(() => depthCurves([{ model: 'm', nLayers: 3, values: [1, 2] }], { metric: 'shannon', groupBy: 'model' }), /nLayers 3/);
    assert.throws(() => heatmap([[1, 2], [3]], { metric: 'shannon' }), /row 1/);
    assert.throws(() => labelProfiles([{ label: 'a', values: [1] }, { label: 'a', values: [1, 2] }], { metric: 'shannon' }), /label 'a'/);
    assert.throws(() => scatter([], { colorTitle: 'x' }), UserError);
  });
});

describe('renderSpec', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'entropylens-plot-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const check = async (name: string, spec: Spec, titles: string[], scale = 2) => {
    const out = await renderSpec(spec, join(dir, 'sub', name), { scale });
    assert.deepEqual(out.warnings, []);
    assert.equal(out.svg, join(dir, 'sub', `${name}.svg`));
    for (const p of [out.svg, out.png, out.spec]) assert.ok(existsSync(p), p);
    assert.deepEqual(JSON.parse(readFileSync(out.spec, 'utf8')), JSON.parse(JSON.stringify(spec)));
    const svg = readFileSync(out.svg, 'utf8');
    for (const t of titles) assert.ok(svg.includes(t), `${name}: SVG lacks '${t}'`);
    assert.ok(svg.includes('DejaVu Sans'), 'SVG names the font');
    const size = svgSize(svg);
    const png = readFileSync(out.png);
    assert.ok(png.length > 10_000, `${name}: PNG of only ${png.length} bytes`);
    const info = pngInfo(png);
    assert.equal(info.width, Math.round(size.width * scale));
    assert.equal(info.height, Math.round(size.height * scale));
    assert.ok(info.inkFraction > 0.03, `${name}: PNG looks blank (${info.inkFraction})`);
    return size;
  };

  it('the PNG check tells blank from drawn', () => {
    const blank = pngInfo(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="50" height="40"><rect width="50" height="40" fill="white"/></svg>'));
    assert.deepEqual([blank.width, blank.height, blank.inkFraction], [100, 80, 0]);
    const half = pngInfo(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="50" height="40"><rect width="25" height="40" fill="#336"/></svg>'));
    assert.ok(Math.abs(half.inkFraction - 0.5) < 0.02, `half-filled image: ${half.inkFraction}`);
  });

  it('writes SVG, PNG at scale 2 and the spec, with the axis titles', async () => {
    const rows = syntheticRows();
    const size = await check('depth', depthCurves(rows, { metric: 'shannon', groupBy: 'model', title: 'Depth test' }), [
      DEPTH_AXIS_TITLE,
      'Shannon entropy (nats)',
      'Depth test',
      'gpt2-medium',
    ]);
    // The plot area is 560 wide; axes, legend and padding come on top.
    assert.ok(size.width > 560 && size.width < 1000, `svg width ${size.width}`);
    await check('heat', heatmap([[1, 2, 3], [2, 3, 4]], { metric: 'renyi:5', yLabel: 'window' }), [LAYER_AXIS_TITLE, 'Rényi-5 entropy (nats)', 'window']);
    await check(
      'scatter',
      scatter(
        Array.from({ length: 30 }, (_, i) => ({ x: noise(i), y: noise(i + 100), color: i % 3 === 0 ? 'gpt2' : 'llama', size: (i + 1) * 1e8 })),
        { colorTitle: 'family', sizeTitle: 'parameters', title: 'Map' },
      ),
      ['t-SNE 1 (arbitrary units)', 't-SNE 2 (arbitrary units)', 'family', 'parameters'],
      1,
    );
    await check('labels', labelProfiles([{ label: 'correct', values: [1, 2, 3] }, { label: 'incorrect', values: [2, 2, 1] }], { metric: 'shannon' }), [
      LAYER_AXIS_TITLE,
      'Shannon entropy (nats)',
      'incorrect',
    ]);
  });
});

const dejavu = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
describe('font metrics', { skip: existsSync(dejavu) ? false : 'DejaVu Sans not installed' }, () => {
  it('reads advance widths from the TrueType tables', () => {
    const face = parseAdvanceWidths(readFileSync(dejavu));
    const w = (s: string) => textWidth(face, s, 10);
    assert.ok(w('m') > w('n') && w('n') > w('i'), 'proportional widths');
    assert.equal(w('0'), w('8'), 'tabular digits');
    assert.ok(w('0') > 4 && w('0') < 8, `digit width ${w('0')} at 10 px`);
    assert.ok(w('Rényi-∞') > 0 && face.advance.has('∞'.codePointAt(0)!));
  });
});
