/** Rendering Vega-Lite specs headless: compile, lay out, SVG, PNG (resvg). */
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic.js';
import { dirname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { installTextMetrics } from './fontmetrics.js';

export type VegaLiteSpec = TopLevelSpec;

export { FONT_FAMILY } from './font.js';

/** Collects what vega-lite / vega would otherwise print to the console, so callers and tests see it. */
class CollectingLogger {
  readonly messages: string[] = [];
  private lvl = 2; // vega-util's Warn
  level(): number;
  level(l: number): this;
  level(l?: number): number | this {
    if (l === undefined) return this.lvl;
    this.lvl = l;
    return this;
  }
  error(...args: unknown[]): this {
    this.messages.push(`error: ${args.map(String).join(' ')}`);
    return this;
  }
  warn(...args: unknown[]): this {
    if (this.lvl >= 2) this.messages.push(`warning: ${args.map(String).join(' ')}`);
    return this;
  }
  info(): this {
    return this;
  }
  debug(): this {
    return this;
  }
}

export interface CompiledSpec {
  /** The Vega spec vega-lite produced. */
  vega: vega.Spec;
  /** Warnings and errors vega-lite logged while compiling (empty for a well-formed figure). */
  warnings: string[];
}

/** Compile a Vega-Lite spec to Vega, collecting vega-lite's warnings instead of printing them. */
export function compileSpec(spec: VegaLiteSpec): CompiledSpec {
  const logger = new CollectingLogger();
  const out = compile(spec, { logger });
  return { vega: out.spec as vega.Spec, warnings: logger.messages };
}

/** Render a Vega-Lite spec to SVG text with vega's headless view (no canvas, no DOM). */
export async function specToSvg(spec: VegaLiteSpec): Promise<{ svg: string; warnings: string[] }> {
  installTextMetrics();
  const compiled = compileSpec(spec);
  const logger = new CollectingLogger();
  const view = new vega.View(vega.parse(compiled.vega), { renderer: 'none', logger });
  try {
    const svg = await view.toSVG();
    return { svg, warnings: [...compiled.warnings, ...logger.messages] };
  } finally {
    view.finalize();
  }
}

/** Rasterise SVG text to PNG bytes at `scale` × its CSS pixel size, with system fonts. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      loadSystemFonts: true,
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
  });
  return resvg.render().asPng();
}

export interface RenderedFigure {
  svg: string;
  png: string;
  /** The Vega-Lite spec as written, for users who want to restyle the figure. */
  spec: string;
  warnings: string[];
}

/**
 * Write `${outBase}.svg`, `${outBase}.png` (scale × the SVG size, 2 by default) and
 * `${outBase}.vl.json`, creating the folder if needed. Returns the three paths.
 */
export async function renderSpec(spec: VegaLiteSpec, outBase: string, opts: { scale?: number } = {}): Promise<RenderedFigure> {
  const { svg, warnings } = await specToSvg(spec);
  const png = svgToPng(svg, opts.scale ?? 2);
  await mkdir(dirname(outBase), { recursive: true });
  const paths = { svg: `${outBase}.svg`, png: `${outBase}.png`, spec: `${outBase}.vl.json` };
  // Each file appears whole or not at all: a full disk or a kill never leaves a 0-byte spec or half a PNG.
  // All three settle (each cleaning up its temporary) before a failure is reported.
  const settled = await Promise.allSettled([
    writeFileAtomic(paths.svg, svg),
    writeFileAtomic(paths.png, png),
    writeFileAtomic(paths.spec, JSON.stringify(spec, null, 2) + '\n'),
  ]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return { ...paths, warnings };
}
