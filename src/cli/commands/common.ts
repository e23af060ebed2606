/** Small helpers shared by the analysis commands (argument parsing, CSV). */
import { intArg, numberArg } from '../args.js';

/** commander parser for an integer option (errors as the other commands word them, see ../args.ts). */
export function parseIntOption(flag: string): (v: string) => number {
  return (v: string): number => intArg(v, flag);
}

/** commander parser for a repeatable, comma-separable list of numbers ('inf' allowed unless integers). */
export function parseNumberList(flag: string, integer: boolean): (v: string, prev: number[] | undefined) => number[] {
  return (v: string, prev: number[] | undefined): number[] => [
    ...(prev ?? []),
    ...v
      .split(',')
      .filter((s) => s !== '')
      .map((part) => (integer ? intArg(part, flag) : part === 'inf' ? Infinity : numberArg(part, flag))),
  ];
}

function csvCell(v: unknown): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvTable(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}
