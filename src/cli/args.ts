/** Argument parsing shared by the CLI commands: numbers with errors that name the option. */
import os from 'node:os';
import { intArg } from '../util/options.js';

export { intArg, numberArg } from '../util/options.js';

/** commander collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--threads`: 0 lets ONNX Runtime choose; more threads than the machine has cores only adds
 * contention (and ONNX Runtime would try to start every one of them: 1,000,000 never finished),
 * so a larger value is capped at the core count with a note on stderr.
 */
export function threadsArg(text: string, cores = os.availableParallelism()): number {
  const n = intArg(text, '--threads', 0);
  if (n <= cores) return n;
  process.stderr.write(`note: --threads ${n} is more than the ${cores} CPU cores here; using ${cores}\n`);
  return cores;
}

/**
 * A model argument: a local folder, or a Hugging Face hub id resolved from the HF cache
 * (HF_HOME / HF_HUB_CACHE) or downloaded there with a progress bar.
 */
export async function resolveModel(arg: string): Promise<string> {
  const { resolveModelDir } = await import('../hub/index.js'); // loaded only when a command needs it
  return resolveModelDir(arg);
}

/** Help text of --quantize, shared by the commands that load a model. */
export const QUANTIZE_HELP = 'int8: weight-only int8 for the linear layers and the unembedding (about a quarter of float32 memory; entropies within a few hundredths of a nat, see the README); default: exact float32';

/** Help text of --weight-dtype, shared by the commands that load a model. */
export const WEIGHT_DTYPE_HELP =
  "checkpoint (default): keep a bf16/f16 checkpoint's weights 16-bit, read in place from its files (no copy in the cache), cast to float32 next to each product; float32: convert every weight once and cache the float32 copy — the same numbers, float32 takes twice the memory, a copy on disk and a longer load but generates faster (see the README's \"Large models\")";

/** --weight-dtype's and --quantize's values, checked before any work (LensModel.load checks them too). */
export { weightDtypeOption as weightDtypeArg, quantizeOption as quantizeArg } from '../lens/options.js';
