/**
 * The one loading sequence of a checkpoint, shared by LensModel.load and inspectModel: the folder's
 * config.json and safetensors headers → the architecture of its model_type → the normalised spec →
 * the weights under canonical names → the unembedding's row count, which becomes the spec's
 * vocabulary. Only headers are read; the architecture's weight mapping runs its shape checks, so a
 * missing or misshapen tensor fails here, naming it, before anything is exported or built.
 */
import path from 'node:path';
import { openCheckpoint, TensorResolver, type Checkpoint } from './checkpoint.js';
import { architectureFor } from './registry.js';
import { checkLayerCount, checkWeightDtypes, validateSpec } from './validate.js';
import type { Architecture, DecoderSpec, WeightSource } from './types.js';

export interface OpenedModel {
  ckpt: Checkpoint;
  arch: Architecture;
  /** The spec, its vocabSize = rows of the unembedding (padded rows included): the lens' V. */
  spec: DecoderSpec;
  /** config.json's vocab_size, as the architecture read it. */
  configVocab: number;
  /** The weights the graph reads, under canonical names (loaders not run yet). */
  weights: WeightSource[];
  /** Full names of the checkpoint tensors the architecture resolved. */
  tensorsRead: Set<string>;
}

/** Records every tensor name the architecture resolves. */
class RecordingResolver extends TensorResolver {
  readonly seen = new Set<string>();
  override resolve(name: string): string | undefined {
    const full = super.resolve(name);
    if (full !== undefined) this.seen.add(full);
    return full;
  }
}

/** Row count of the unembedding (the lens' V): `lm_head.weight`, or the tied `embed.weight`. */
export function unembedRows(weights: WeightSource[]): number {
  const head = weights.find((w) => w.name === 'lm_head.weight') ?? weights.find((w) => w.name === 'embed.weight');
  if (!head) throw new Error('architecture exported neither lm_head.weight nor embed.weight');
  return head.dims[0];
}

/** Open a checkpoint folder and map it onto its architecture (UserErrors name the file, key or tensor). */
export function openModel(dir: string): OpenedModel {
  const ckpt = openCheckpoint(dir);
  const configFile = path.join(ckpt.dir, 'config.json');
  const arch = architectureFor(ckpt.config, configFile);
  // The layer count first: the architecture builds per-layer settings from it.
  checkLayerCount(ckpt, configFile);
  const configSpec = arch.spec(ckpt.config);
  validateSpec(configSpec, configFile);
  const resolver = new RecordingResolver(ckpt, arch.prefixes);
  const weights = arch.weights(configSpec, resolver, ckpt);
  checkWeightDtypes(ckpt, resolver.seen);
  const spec: DecoderSpec = { ...configSpec, vocabSize: unembedRows(weights) };
  return { ckpt, arch, spec, configVocab: configSpec.vocabSize, weights, tensorsRead: resolver.seen };
}
