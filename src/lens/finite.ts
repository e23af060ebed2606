/** Finding NaN and Inf in a profile result: a model that produces them must not pass silently. */
import type { ProfileResult } from './generate.js';

export interface NonFinite {
  /** Cells (metric × step × layer) that hold NaN or ±Inf. */
  count: number;
  /** The first one, for the message. */
  first?: { metric: string; step: number; layer: number; value: number };
}

export function nonFiniteCells(r: Pick<ProfileResult, 'metrics'>): NonFinite {
  const out: NonFinite = { count: 0 };
  for (const [metric, rows] of Object.entries(r.metrics)) {
    rows.forEach((row, step) =>
      row.forEach((value, layer) => {
        if (Number.isFinite(value)) return;
        out.count++;
        out.first ??= { metric, step, layer, value };
      }),
    );
  }
  return out;
}
