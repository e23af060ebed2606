import v8 from 'node:v8';
import vm from 'node:vm';

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

let gc: GcFunction | null | undefined;

/**
 * A young-generation ("minor") garbage collection, where the runtime can have one: frees the
 * short-lived typed arrays (run outputs) whose memory lives outside the V8 heap, which V8 otherwise
 * lets grow by up to 64 MB before it collects. Uses `global.gc` when Node runs with --expose-gc,
 * else exposes it once through V8's flags in one fresh context (the flag is turned back off at
 * once); a no-op if neither works.
 */
export function collectYoungGarbage(): void {
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
  gc?.({ type: 'minor' });
}
