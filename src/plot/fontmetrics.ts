/** Text widths from the DejaVu Sans font files, for vega's headless layout. */
import { existsSync, readFileSync } from 'node:fs';
import * as vega from 'vega';

/**
 * Text widths for vega's headless layout. Without a canvas vega guesses 0.8 em per character,
 * which leaves wide gaps after legends and long axis titles. Here the advance widths come from
 * the DejaVu Sans files the PNG is rendered with (read from the TrueType `cmap`/`hmtx` tables),
 * so the layout matches what resvg draws. DejaVu is wider than Helvetica/Arial, so a browser
 * showing the SVG with those fonts gets a little slack, never clipping. Where no DejaVu file is
 * found, vega's own estimate stays in place.
 */

/** Advance widths of one font face, in em. */
interface FaceWidths {
  advance: Map<number, number>;
  /** width used for code points the face lacks */
  fallback: number;
}

const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/share/fonts/TTF', '/usr/local/share/fonts', '/usr/share/fonts/dejavu-sans-fonts'];

function findFont(file: string): string | undefined {
  for (const dir of FONT_DIRS) {
    const p = `${dir}/${file}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Parse a TrueType file's unicode cmap (format 4 or 12) and horizontal metrics into em widths. */
export function parseAdvanceWidths(buf: Buffer): FaceWidths {
  const numTables = buf.readUInt16BE(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
  }
  const head = tables.get('head');
  const hhea = tables.get('hhea');
  const hmtx = tables.get('hmtx');
  const cmap = tables.get('cmap');
  if (head === undefined || hhea === undefined || hmtx === undefined || cmap === undefined) {
    throw new Error('not a TrueType font with head/hhea/hmtx/cmap tables');
  }
  const unitsPerEm = buf.readUInt16BE(head + 18);
  const nMetrics = buf.readUInt16BE(hhea + 34);
  const glyphAdvance = (g: number): number => buf.readUInt16BE(hmtx + 4 * Math.min(g, nMetrics - 1)) / unitsPerEm;

  // Prefer the full-unicode subtable (3,10 format 12), else the BMP one (3,1 / 0,x format 4).
  let sub4: number | undefined;
  let sub12: number | undefined;
  const nSub = buf.readUInt16BE(cmap + 2);
  for (let i = 0; i < nSub; i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = buf.readUInt16BE(rec);
    const encoding = buf.readUInt16BE(rec + 2);
    const off = cmap + buf.readUInt32BE(rec + 4);
    const format = buf.readUInt16BE(off);
    if (format === 12 && (platform === 3 || platform === 0)) sub12 ??= off;
    if (format === 4 && ((platform === 3 && encoding === 1) || platform === 0)) sub4 ??= off;
  }
  const advance = new Map<number, number>();
  if (sub12 !== undefined) {
    const nGroups = buf.readUInt32BE(sub12 + 12);
    for (let i = 0; i < nGroups; i++) {
      const g = sub12 + 16 + 12 * i;
      const start = buf.readUInt32BE(g);
      const end = buf.readUInt32BE(g + 4);
      const glyph = buf.readUInt32BE(g + 8);
      for (let c = start; c <= end && c < 0x30000; c++) advance.set(c, glyphAdvance(glyph + c - start));
    }
  } else if (sub4 !== undefined) {
    const segX2 = buf.readUInt16BE(sub4 + 6);
    const ends = sub4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const rangeOffsets = deltas + segX2;
    for (let s = 0; s < segX2 / 2; s++) {
      const end = buf.readUInt16BE(ends + 2 * s);
      const start = buf.readUInt16BE(starts + 2 * s);
      const delta = buf.readInt16BE(deltas + 2 * s);
      const ro = buf.readUInt16BE(rangeOffsets + 2 * s);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let glyph: number;
        if (ro === 0) glyph = (c + delta) & 0xffff;
        else {
          const at = rangeOffsets + 2 * s + ro + 2 * (c - start);
          glyph = buf.readUInt16BE(at);
          if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
        }
        if (glyph !== 0) advance.set(c, glyphAdvance(glyph));
      }
    }
  } else {
    throw new Error('no unicode cmap subtable');
  }
  return { advance, fallback: glyphAdvance(0) };
}

function loadFace(file: string): FaceWidths | undefined {
  const path = findFont(file);
  if (!path) return undefined;
  try {
    return parseAdvanceWidths(readFileSync(path));
  } catch {
    return undefined;
  }
}

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

function isBold(weight: number | string | undefined): boolean {
  if (weight === undefined) return false;
  if (typeof weight === 'number') return weight >= 600;
  return weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
}

/** Width in px of `text` in DejaVu Sans at `fontSize` px. */
export function textWidth(face: FaceWidths, text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) em += face.advance.get(ch.codePointAt(0)!) ?? face.fallback;
  return em * fontSize;
}

let installed: boolean | undefined;

/**
 * Make vega measure text with DejaVu Sans metrics (once per process). Returns whether the font
 * files were found; if not, vega keeps its estimate.
 */
export function installTextMetrics(): boolean {
  if (installed !== undefined) return installed;
  const regular = loadFace('DejaVuSans.ttf');
  const bold = loadFace('DejaVuSans-Bold.ttf') ?? regular;
  installed = regular !== undefined && bold !== undefined;
  if (!installed) return false;
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text?: unknown) => number } }).textMetrics;
  metrics.width = (item: TextItem, text?: unknown): number => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const str = text == null ? '' : String(text).trim();
    const w = textWidth(isBold(item.fontWeight) ? bold! : regular!, str, size);
    // vega truncates text to `limit`; measuring the truncated string here would recurse through
    // vega's truncate (it calls this function), and the limit bounds its width anyway.
    const limit = Number(item.limit);
    return limit > 0 ? Math.min(w, limit) : w;
  };
  return true;
}
