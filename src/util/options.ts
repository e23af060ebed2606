/**
 * Option values as the CLI spells them (`--max-new-tokens`, `--scale-block L:F`): parsed and
 * checked here, below the CLI, so the viewer's JSON API answers bad options with the CLI's words.
 */
import { UserError } from './errors.js';

export function numberArg(text: string, option: string, min?: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UserError(`${option} '${text}' is not a number`);
  if (min !== undefined && v < min) throw new UserError(`${option} must be ≥ ${min}, got ${v}`);
  return v;
}

export function intArg(text: string, option: string, min?: number): number {
  const v = numberArg(text, option, min);
  if (!Number.isInteger(v)) throw new UserError(`${option} must be an integer, got ${text}`);
  return v;
}

export function parseIdList(text: string, option: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => !/^\d+$/.test(s))) {
    throw new UserError(`${option} '${text}': expected comma-separated non-negative integers, e.g. 1,2,3`);
  }
  return parts.map(Number);
}

/** An intervention on the residual stream after a block (the lens' Intervention, by shape). */
export interface BlockIntervention {
  kind: 'scale' | 'skip';
  layer: number;
  factor?: number;
}

/** `--scale-block L:F` and `--skip-block L` values as interventions. */
export function parseInterventions(scale: readonly string[], skip: readonly string[]): BlockIntervention[] {
  const out: BlockIntervention[] = [];
  for (const s of scale) {
    const m = /^(\d+):(.+)$/.exec(s.trim());
    const f = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(f)) throw new UserError(`--scale-block '${s}': expected BLOCK:FACTOR, e.g. 3:0.5`);
    out.push({ kind: 'scale', layer: Number(m[1]), factor: f });
  }
  for (const s of skip) {
    if (!/^\d+$/.test(s.trim())) throw new UserError(`--skip-block '${s}': expected a block index, e.g. 2`);
    out.push({ kind: 'skip', layer: Number(s) });
  }
  return out;
}
