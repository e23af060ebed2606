/** GraphSession: an ONNX Runtime session over a graph file (CPU or CUDA), run with plain typed arrays. */
import fs from 'node:fs';
import { ort } from './ort.js';
import { UserError } from '../util/errors.js';
import { collectYoungGarbage } from '../util/gc.js';

const DEBUG = process.argv.includes('--debug') || process.env.ENTROPYLENS_DEBUG === '1';
// ONNX Runtime's own log lines (e.g. a missing CUDA library) only with --debug: errors reach the user as exceptions
ort.env.logLevel = DEBUG ? 'warning' : 'fatal';

export type Device = 'cpu' | 'cuda';

export interface SessionOptions {
  /** Intra-op threads; 0 lets ONNX Runtime choose (one per physical core). */
  threads?: number;
  device?: Device;
  /**
   * The graph holds 16-bit weights that it casts to float32 where used: switch off constant folding,
   * which would otherwise replace each Cast of a weight by a float32 copy made at load.
   */
  halfWeights?: boolean;
  /**
   * The folder that the graph's external-data locations are relative to, when not the graph's own:
   * ONNX Runtime reads weights only from inside that folder (symbolic links resolved), so a graph
   * that reads checkpoint files in place is opened from its bytes with a folder above them all.
   */
  externalDataFolder?: string;
}

/** Named outputs of one run, as plain typed arrays with their dims. */
export interface RunOutputs {
  [name: string]: { data: Float32Array | BigInt64Array; dims: readonly number[] };
}

export type Feed = { type: 'float32'; data: Float32Array; dims: number[] } | { type: 'int64'; data: BigInt64Array; dims: number[] };

/** A thin wrapper over an onnxruntime-node session: create from a graph file, run with plain arrays. */
export class GraphSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async create(graphPath: string, opts: SessionOptions = {}): Promise<GraphSession> {
    const providers = opts.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
    let session: ort.InferenceSession;
    try {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: providers,
        graphOptimizationLevel: 'all',
        interOpNumThreads: 1,
        // The arena keeps large lens buffers mapped between steps (without it every step pays page
        // faults on fresh [batch·layers, vocab] buffers); the memory-pattern planner, measured on
        // GPT-2 small, only raised the peak (1107 → 932 MB at batch 8) at equal speed.
        enableCpuMemArena: true,
        enableMemPattern: false,
        logSeverityLevel: DEBUG ? 2 : 4,
      };
      if (opts.threads && opts.threads > 0) options.intraOpNumThreads = opts.threads;
      const extra: Record<string, Record<string, string>> = {};
      if (opts.halfWeights) extra.optimization = { disable_specified_optimizers: 'ConstantFolding' };
      if (opts.externalDataFolder !== undefined) extra.session = { model_external_initializers_file_folder_path: opts.externalDataFolder };
      if (Object.keys(extra).length) options.extra = extra;
      session =
        opts.externalDataFolder !== undefined
          ? await ort.InferenceSession.create(fs.readFileSync(graphPath), options)
          : await ort.InferenceSession.create(graphPath, options);
    } catch (err) {
      const msg = (err as Error).message;
      if (opts.device === 'cuda') {
        throw new UserError(`could not start ONNX Runtime on CUDA: ${msg} (fetch the CUDA 12 provider once with: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js; or use --device cpu)`);
      }
      throw err;
    }
    return new GraphSession(session, session.inputNames, session.outputNames);
  }

  async run(feeds: Record<string, Feed>): Promise<RunOutputs> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(f.type, f.data, f.dims);
    // Every output comes back as a fresh copy (also into pre-allocated fetches, measured with
    // onnxruntime-node 1.30), so the previous run's outputs are garbage by now: collect them before
    // this run's copies arrive, rather than letting up to V8's 64 MB of external memory pile up.
    collectYoungGarbage();
    const out = await this.session.run(inputs);
    const result: RunOutputs = {};
    for (const [name, t] of Object.entries(out)) {
      result[name] = { data: t.data as Float32Array | BigInt64Array, dims: t.dims };
    }
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
