/** Explicit garbage collections (young and full) where V8 exposes them, to return the run outputs' memory early. */
import v8 from 'node:v8';
import vm from 'node:vm';

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

let gc: GcFunction | null | undefined;

/**
 * V8's `gc`: `global.gc` when Node runs with --expose-gc, else exposed once through V8's flags in
 * one fresh context (the flag is turned back off at once); null if neither works.
 */
function gcFunction(): GcFunction | null {
  if (gc === undefined) {
    gc = (globalThis as { gc?: GcFunction }).gc ?? null;
    if (!gc) {
      try {
        v8.setFlagsFromString('--expose-gc');
        gc = vm.runInNewContext('gc') as GcFunction;
      } catch {
        gc = null;
      } finally {
        // only that one context gets it: contexts and workers created later do not
        v8.setFlagsFromString('--no-expose-gc');
      }
    }
  }
  return gc;
}

/**
 * A young-generation ("minor") garbage collection, where the runtime can have one: frees the
 * short-lived typed arrays (run outputs) whose memory lives outside the V8 heap, which V8 otherwise
 * lets grow by up to 64 MB before it collects. A no-op without `gc`.
 */
export function collectYoungGarbage(): void {
  gcFunction()?.({ type: 'minor' });
}

/**
 * A full garbage collection (a no-op without `gc`), after a burst of large, longer-lived arrays:
 * those promoted out of the young generation survive minor collections.
 */
export function collectAllGarbage(): void {
  gcFunction()?.();
}
