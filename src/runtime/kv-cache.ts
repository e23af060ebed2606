/**
 * The static KV cache of a batch: per layer a key and a value buffer passed to the graph whole at
 * every step (graph/decoder.ts explains the protocol), the entries each run returns written at
 * their slots, and the pool of buffers one profile() call reuses for all its batches.
 */
import type { Feed, RunOutputs } from './session.js';

/**
 * The cache buffers of one profile() call, allocated once at the largest size any batch of the call
 * needs (growing per batch would leave the outgrown set to the garbage collector, at times two sets
 * alive at once).
 */
export class KvPool {
  /**
   * One allocation for all buffers: a mapping of its own, returned whole when dropped, rather than
   * many that the C allocator interleaves with short-lived ones (GPT-2 small, batch 8: peak RSS
   * ~10 MB lower).
   */
  private block: Float32Array | undefined;
  private readonly handedOut = new Set<number>();

  /** `floats` per buffer, `buffers` of them. */
  constructor(
    private readonly floats: number,
    private readonly buffers: number,
  ) {}

  /** A zeroed view of the first n floats of buffer i. */
  view(i: number, n: number): Float32Array {
    if (n > this.floats || i >= this.buffers) throw new Error(`KV buffer ${i}: ${n} floats asked of ${this.floats}`);
    this.block ??= new Float32Array(this.floats * this.buffers);
    const v = this.block.subarray(i * this.floats, i * this.floats + n);
    if (this.handedOut.has(i)) v.fill(0); // a fresh allocation is zero already
    this.handedOut.add(i);
    return v;
  }
}

/**
 * Cache slots a batch needs: slot j of every row holds cache index j (the prompt, left-padded, then
 * the generated tokens); the last generated token is never fed back.
 */
export function cacheSlots(batch: { ids: number[] }[], maxNew: number): number {
  // the prefill writes every prompt position, also when nothing is generated (maxNew 0)
  return Math.max(...batch.map((b) => b.ids.length)) + Math.max(1, maxNew) - 1;
}

/**
 * The static KV cache of one batch: per layer a key and a value buffer [batch, kvHeads, slots,
 * headDim], passed to the graph whole at every step; the graph returns only the new entries, written
 * here at their slots. `filled` [batch, slots] says which slots hold real tokens (not padding, not
 * yet written).
 */
export class KvCache {
  readonly names: string[];
  private readonly views = new Map<string, Float32Array>();
  private readonly filled: BigInt64Array;
  private dummy = new Float32Array(0);
  /** Slots written so far (the cache index of the next token). */
  length = 0;

  constructor(
    pool: KvPool,
    inputNames: readonly string[],
    readonly batch: number,
    readonly kvHeads: number,
    readonly slots: number,
    readonly headDim: number,
  ) {
    this.names = inputNames.filter((n) => n.startsWith('past_key_values.'));
    this.names.forEach((name, i) => this.views.set(name, pool.view(i, batch * kvHeads * slots * headDim)));
    this.filled = new BigInt64Array(batch * slots);
  }

  /** The cache of rows r0…r1 (all of them by default), in place. */
  feeds(r0 = 0, r1 = this.batch): Record<string, Feed> {
    const n = this.kvHeads * this.slots * this.headDim;
    return Object.fromEntries(
      this.names.map((name) => [name, { type: 'float32', data: this.views.get(name)!.subarray(r0 * n, r1 * n), dims: [r1 - r0, this.kvHeads, this.slots, this.headDim] }]),
    );
  }

  /** The past of a prefill's first span: one zero slot per row (masked: nothing is written yet). */
  dummyFeeds(rows: number): Record<string, Feed> {
    const n = rows * this.kvHeads * this.headDim;
    if (this.dummy.length < n) this.dummy = new Float32Array(n);
    const data = this.dummy.subarray(0, n);
    return Object.fromEntries(this.names.map((name) => [name, { type: 'float32', data, dims: [rows, this.kvHeads, 1, this.headDim] }]));
  }

  /**
   * attention_mask [rows, past + S] for rows r0…r1: which of their first `past` slots hold real
   * tokens, then `fresh` [rows, S], which of the new positions do.
   */
  mask(r0: number, r1: number, past: number, fresh: BigInt64Array): BigInt64Array {
    const S = fresh.length / (r1 - r0);
    const w = past + S;
    const mask = new BigInt64Array((r1 - r0) * w);
    for (let r = r0; r < r1; r++) {
      mask.set(this.filled.subarray(r * this.slots, r * this.slots + past), (r - r0) * w);
      mask.set(fresh.subarray((r - r0) * S, (r - r0 + 1) * S), (r - r0) * w + past);
    }
    return mask;
  }

  /**
   * Copy a run's new entries [rows, kvHeads, seq, headDim] into rows r0… at slots at…, `fresh`
   * [rows, seq] saying which are real tokens; drops them from `out`.
   */
  write(out: RunOutputs, r0: number, at: number, fresh: BigInt64Array): void {
    const { kvHeads, slots, headDim } = this;
    let rows = 0;
    let seq = 0;
    for (const name of this.names) {
      const outName = name.replace('past_key_values.', 'new_key_values.');
      const src = out[outName];
      [rows, , seq] = src.dims;
      if (at + seq > slots) throw new Error(`KV cache overflow: ${at + seq} positions in ${slots} slots`);
      const data = src.data as Float32Array;
      const dst = this.views.get(name)!;
      const span = seq * headDim;
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < kvHeads; h++) {
          const from = (r * kvHeads + h) * span;
          dst.set(data.subarray(from, from + span), (((r0 + r) * kvHeads + h) * slots + at) * headDim);
        }
      }
      delete out[outName];
    }
    for (let r = 0; r < rows; r++) this.filled.set(fresh.subarray(r * seq, (r + 1) * seq), (r0 + r) * slots + at);
    this.length = Math.max(this.length, at + seq);
  }
}

/** Outputs of runs over consecutive row ranges, joined along the batch (outermost) axis. */
export function concatRows(parts: RunOutputs[]): RunOutputs {
  const out: RunOutputs = {};
  for (const name of Object.keys(parts[0])) {
    const pieces = parts.map((p) => p[name]);
    const length = pieces.reduce((n, p) => n + p.data.length, 0);
    const data = pieces[0].data instanceof BigInt64Array ? new BigInt64Array(length) : new Float32Array(length);
    let off = 0;
    for (const p of pieces) {
      if (data instanceof BigInt64Array) data.set(p.data as BigInt64Array, off);
      else data.set(p.data as Float32Array, off);
      off += p.data.length;
    }
    out[name] = { data, dims: [pieces.reduce((n, p) => n + p.dims[0], 0), ...pieces[0].dims.slice(1)] };
  }
  return out;
}
