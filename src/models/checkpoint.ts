/**
 * A Hugging Face checkpoint folder: config.json plus safetensors weights (single file, index +
 * shards, or loose files). Only headers are read up front; tensors are read on demand with
 * positioned reads, so multi-GB checkpoints cost nothing until a tensor is asked for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';
import { readRegularFileSync } from '../util/files.js';
import { attachConfigPath } from './config.js';
import { readSafetensorsHeader, readTensorFloat32, type TensorInfo } from './safetensors.js';

export interface Checkpoint {
  dir: string;
  /** Parsed config.json. */
  config: Record<string, unknown>;
  /** Every tensor of every shard, by name as in the file. */
  tensors: Map<string, TensorInfo>;
  /** Read a tensor converted to float32 (F32 copied, F16 and BF16 upcast exactly). Throws UserError naming the tensor and the dir if absent. */
  readFloat32(name: string): Float32Array;
  has(name: string): boolean;
  /** Bytes of all tensors. */
  totalBytes: number;
  /** The set of dtypes present. */
  dtypes: Set<string>;
  /** The files the model is made of (config.json, the shard index, the safetensors files): their content keys the weight cache (models/content-hash.ts). */
  files: string[];
}

const INDEX_FILE = 'model.safetensors.index.json';
const SINGLE_FILE = 'model.safetensors';
const UNSUPPORTED_WEIGHTS = ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'model.pt', 'model.pth', 'tf_model.h5', 'flax_model.msgpack'];

function readJsonObject(file: string, what: string): Record<string, unknown> {
  const text = readRegularFileSync(file, what);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is not valid JSON (${(e as Error).message}); fix or re-download it`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError(`${file} must contain a JSON object; fix or re-download it`);
  }
  return parsed as Record<string, unknown>;
}

/** The safetensors files to read, and for an index, the names it promises in each shard. */
function findWeightFiles(dir: string): { files: string[]; indexFile?: string; weightMap?: Map<string, string> } {
  const single = path.join(dir, SINGLE_FILE);
  if (fs.existsSync(single)) return { files: [single] };

  const indexFile = path.join(dir, INDEX_FILE);
  if (fs.existsSync(indexFile)) {
    const index = readJsonObject(indexFile, 'safetensors index');
    const wm = index.weight_map;
    if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) {
      throw new UserError(`${indexFile}: "weight_map" must be an object mapping tensor names to shard files; fix or re-download it`);
    }
    const weightMap = new Map<string, string>();
    const shards: string[] = [];
    for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
      // A shard name must stay inside the checkpoint folder.
      if (typeof shard !== 'string' || shard === '' || path.isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
        throw new UserError(`${indexFile}: weight_map entry '${name}' has invalid shard ${JSON.stringify(shard)}; fix or re-download the index`);
      }
      const shardPath = path.join(dir, shard);
      weightMap.set(name, shardPath);
      if (!shards.includes(shardPath)) shards.push(shardPath);
    }
    for (const s of shards) {
      if (!fs.existsSync(s)) {
        throw new UserError(`${indexFile} lists shard ${path.basename(s)}, but ${s} does not exist; download the missing shard`);
      }
    }
    return { files: shards, indexFile, weightMap };
  }

  const loose = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .sort()
    .map((f) => path.join(dir, f));
  if (loose.length > 0) return { files: loose };

  const found = UNSUPPORTED_WEIGHTS.filter((f) => fs.existsSync(path.join(dir, f)));
  throw new UserError(
    `no safetensors weights in ${dir}` +
      (found.length ? ` (found ${found.join(', ')})` : '') +
      '. entropylens reads safetensors only; pytorch_model.bin is not supported — convert the model with ' +
      'transformers: AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)',
  );
}

export function openCheckpoint(dirArg: string): Checkpoint {
  const dir = path.resolve(dirArg);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UserError(`model folder not found: ${dir}`);
  }
  if (!st.isDirectory()) throw new UserError(`${dir} is not a folder; pass the folder holding config.json and the *.safetensors files`);

  const configPath = path.join(dir, 'config.json');
  const config = readJsonObject(configPath, 'config.json');
  attachConfigPath(config, configPath);

  const { files, indexFile, weightMap } = findWeightFiles(dir);
  const tensors = new Map<string, TensorInfo>();
  const dtypes = new Set<string>();
  let totalBytes = 0;
  for (const file of files) {
    const { tensors: infos } = readSafetensorsHeader(file);
    for (const t of infos) {
      const prev = tensors.get(t.name);
      if (prev) {
        throw new UserError(
          `tensor '${t.name}' appears in both ${prev.file} and ${t.file}; the checkpoint in ${dir} mixes files — remove the stray file`,
        );
      }
      tensors.set(t.name, t);
      dtypes.add(t.dtype);
      totalBytes += t.byteLength;
    }
  }
  if (weightMap && indexFile) {
    for (const [name, shard] of weightMap) {
      const t = tensors.get(name);
      if (!t || t.file !== shard) {
        throw new UserError(
          `${indexFile} maps tensor '${name}' to ${path.basename(shard)}, but ` +
            (t ? `it is in ${path.basename(t.file)}` : 'that shard does not contain it') +
            '; the shard is stale or incomplete — download it again',
        );
      }
    }
  }


  const readFloat32 = (name: string): Float32Array => {
    const info = tensors.get(name);
    if (!info) throw new UserError(`tensor '${name}' not found in the checkpoint ${dir}`);
    const fd = fs.openSync(info.file, 'r');
    try {
      return readTensorFloat32(fd, info);
    } finally {
      fs.closeSync(fd);
    }
  };

  return {
    dir,
    config,
    tensors,
    readFloat32,
    has: (name) => tensors.has(name),
    totalBytes,
    dtypes,
    files: [configPath, ...(indexFile ? [indexFile] : []), ...files],
  };
}

/** Name resolution for architectures: checkpoints of one architecture vary in prefixes. */
export class TensorResolver {
  constructor(
    private readonly ckpt: Checkpoint,
    private readonly prefixes: string[],
  ) {}

  /** The full name found under the first prefix that has it. */
  resolve(name: string): string | undefined {
    for (const p of this.prefixes) {
      if (this.ckpt.has(p + name)) return p + name;
    }
    return undefined;
  }

  /** Find `name` under any prefix (first match); throws UserError naming the tensor, the prefixes tried and the dir, if absent. */
  get(name: string): Float32Array {
    const full = this.resolve(name);
    if (full === undefined) {
      const tried = this.prefixes.map((p) => `'${p + name}'`).join(', ');
      const near = this.similar(name);
      throw new UserError(
        `tensor '${name}' not found in the checkpoint ${this.ckpt.dir} (tried ${tried})` +
          (near.length ? `; similar names present: ${near.join(', ')}` : '') +
          '; the checkpoint is incomplete or of a different architecture than config.json says',
      );
    }
    return this.ckpt.readFloat32(full);
  }

  /** Same as get, but undefined when absent. */
  maybe(name: string): Float32Array | undefined {
    const full = this.resolve(name);
    return full === undefined ? undefined : this.ckpt.readFloat32(full);
  }

  private similar(name: string): string[] {
    // Suggest names sharing the last two dotted components (e.g. 'q_proj.weight').
    const tail = name.split('.').slice(-2).join('.');
    const out: string[] = [];
    for (const n of this.ckpt.tensors.keys()) {
      if (n.endsWith(tail)) out.push(`'${n}'`);
      if (out.length >= 3) break;
    }
    return out;
  }
}
