/**
 * What entropylens reads from a checkpoint, without running it (`entropylens inspect`): the
 * architecture, its normalised spec, and the tensors found, used and left over. Only config.json
 * and the safetensors headers are read; the architecture's weight mapping runs its shape checks,
 * so a missing or misshapen tensor fails here exactly as it would at load time.
 */
import { openModel } from './load.js';
import type { DecoderSpec, RopeSpec, WeightSource } from './types.js';
import { readInPlace } from './in-place.js';

export interface RopeGroup {
  /** Layers sharing this rotary. */
  layers: number[];
  rotaryDim: number;
  /** Inverse frequencies of the first and last rotary pair (scaling applied): tells groups apart. */
  invFreqRange: [number, number];
  attentionFactor?: number;
  longrope?: { originalMaxPositions: number };
  dynamicNtk?: { base: number; factor: number };
}

export interface InspectReport {
  dir: string;
  modelType: string;
  /** config.json `architectures`. */
  hfArchitectures: string[];
  /** The entropylens architecture file that handles it: its model types and HF classes. */
  handledBy: { modelTypes: string[]; hfClasses: string[] };
  layers: number;
  dModel: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** config.json vocab_size. */
  configVocab: number;
  /** Rows of the unembedding: the lens' V. */
  unembedRows: number;
  maxPositions: number;
  tiedEmbeddings: boolean;
  /** Safetensors dtypes present, and config.json torch_dtype. */
  dtypes: string[];
  torchDtype: string | null;
  norm: { kind: string; eps: number; placement: 'pre' | 'post'; finalNorm: boolean; embedNorm: boolean; sandwich: boolean; qkNorm: string | null };
  mlp: { gated: boolean; activation: string };
  residual: 'sequential' | 'parallel';
  sharedBlockNorm: boolean;
  positions: DecoderSpec['positions'];
  /** config rope_theta (or rotary_emb_base) and rope_scaling as written. */
  ropeConfig: { theta: number | null; scaling: unknown; localTheta: number | null } | null;
  rope: RopeGroup[] | null;
  alibi: { order: string; bfloat16: boolean; repeatedInMask: boolean } | null;
  learnedPositions: { table: number; offset: number } | null;
  /** Layers with a sliding window, and the window of each (null = global). */
  slidingWindow: { perLayer: (number | null)[]; slidingLayers: number } | null;
  attnScale: number | number[];
  attnSoftcap: number | null;
  finalSoftcap: number | null;
  embedScale: number | null;
  tensors: { count: number; bytes: number; used: number; unused: string[] };
  /** Weights entropylens exports (canonical names) and their float32 size. */
  exported: { count: number; float32Bytes: number };
  /**
   * With the default 16-bit-keeping load: the weights read in place from the checkpoint's files, and
   * those copied to the weight cache (computed, rearranged or converted), their names grouped over
   * layers (`layers.*.attn.q.weight ×32`).
   */
  cache: { inPlace: { count: number; bytes: number }; copied: { count: number; float32Bytes: number; names: string[] } };
}

function cachePlan(sources: WeightSource[]): InspectReport['cache'] {
  let inPlaceCount = 0;
  let inPlaceBytes = 0;
  let copiedBytes = 0;
  const groups = new Map<string, number>();
  for (const s of sources) {
    const at = readInPlace(s, true);
    if (at) {
      inPlaceCount++;
      inPlaceBytes += at.length;
      continue;
    }
    copiedBytes += 4 * s.dims.reduce((a, b) => a * b, 1);
    const g = s.name.replace(/^layers\.\d+\./, 'layers.*.');
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  const names = [...groups].map(([g, n]) => (n > 1 ? `${g} ×${n}` : g));
  return { inPlace: { count: inPlaceCount, bytes: inPlaceBytes }, copied: { count: sources.length - inPlaceCount, float32Bytes: copiedBytes, names } };
}

function ropeGroups(spec: DecoderSpec): RopeGroup[] | null {
  if (spec.positions !== 'rope' || !spec.rope) return null;
  const perLayer: (RopeSpec | null)[] = Array.isArray(spec.rope) ? spec.rope : Array.from({ length: spec.nLayers }, () => spec.rope as RopeSpec);
  const groups = new Map<RopeSpec, number[]>();
  perLayer.forEach((r, l) => {
    if (r) groups.set(r, [...(groups.get(r) ?? []), l]);
  });
  return [...groups].map(([r, layers]) => ({
    layers,
    rotaryDim: r.rotaryDim,
    invFreqRange: [r.invFreq[0], r.invFreq[r.invFreq.length - 1]] as [number, number],
    ...(r.attentionFactor !== undefined && r.attentionFactor !== 1 ? { attentionFactor: r.attentionFactor } : {}),
    ...(r.long ? { longrope: { originalMaxPositions: r.long.originalMaxPositions } } : {}),
    ...(r.dynamic ? { dynamicNtk: { base: r.dynamic.base, factor: r.dynamic.factor } } : {}),
  }));
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

export function inspectModel(dir: string): InspectReport {
  const { ckpt, arch, spec, configVocab, weights: sources, tensorsRead } = openModel(dir);
  const cfg = ckpt.config;
  const hfArchitectures = Array.isArray(cfg.architectures) ? cfg.architectures.map(String) : [];
  const unused = [...ckpt.tensors.keys()].filter((n) => !tensorsRead.has(n)).sort();
  const windows = spec.slidingWindow.some((w) => w !== null) ? { perLayer: spec.slidingWindow, slidingLayers: spec.slidingWindow.filter((w) => w !== null).length } : null;
  const exportedBytes = sources.reduce((a, s) => a + 4 * s.dims.reduce((p, d) => p * d, 1), 0);
  const usesRope = spec.positions === 'rope';
  return {
    dir: ckpt.dir,
    modelType: cfg.model_type as string, // a string: openModel found its architecture
    hfArchitectures,
    handledBy: { modelTypes: arch.modelTypes, hfClasses: arch.hfClasses },
    layers: spec.nLayers,
    dModel: spec.dModel,
    heads: spec.nHeads,
    kvHeads: spec.nKvHeads,
    headDim: spec.headDim,
    configVocab,
    unembedRows: spec.vocabSize,
    maxPositions: spec.maxPositions,
    tiedEmbeddings: spec.tiedEmbeddings,
    dtypes: [...ckpt.dtypes].sort(),
    torchDtype: typeof cfg.torch_dtype === 'string' ? cfg.torch_dtype : null,
    norm: {
      kind: spec.norm.kind === 'rms' ? 'RMSNorm' : 'LayerNorm',
      eps: spec.norm.eps,
      placement: spec.normPlacement ?? 'pre',
      finalNorm: !spec.noFinalNorm,
      embedNorm: spec.embedNorm ?? false,
      sandwich: spec.sandwichNorms ?? false,
      qkNorm: spec.qkNorm ? (spec.qkNorm.kind === 'rms' ? 'RMSNorm' : 'LayerNorm') : null,
    },
    mlp: { gated: spec.mlp.gated, activation: spec.mlp.act },
    residual: spec.residual,
    sharedBlockNorm: spec.sharedBlockNorm ?? false,
    positions: spec.positions,
    ropeConfig: usesRope
      ? {
          theta: numberOrNull(cfg.rope_theta ?? cfg.rotary_emb_base ?? (cfg.text_config as Record<string, unknown> | undefined)?.rope_theta),
          scaling: cfg.rope_scaling ?? (cfg.text_config as Record<string, unknown> | undefined)?.rope_scaling ?? null,
          localTheta: numberOrNull(cfg.rope_local_base_freq ?? (cfg.text_config as Record<string, unknown> | undefined)?.rope_local_base_freq),
        }
      : null,
    rope: ropeGroups(spec),
    alibi: spec.alibi ? { order: spec.alibi.order, bfloat16: spec.alibi.bfloat16 ?? false, repeatedInMask: spec.alibi.repeatedInMask ?? false } : null,
    learnedPositions: spec.positions === 'learned' ? { table: sources.find((s) => s.name === 'pos_embed.weight')?.dims[0] ?? spec.maxPositions, offset: spec.learnedPositionOffset ?? 0 } : null,
    slidingWindow: windows,
    attnScale: spec.attnScale,
    attnSoftcap: spec.attnSoftcap ?? null,
    finalSoftcap: spec.finalSoftcap ?? null,
    embedScale: spec.embedScale ?? null,
    tensors: { count: ckpt.tensors.size, bytes: ckpt.totalBytes, used: tensorsRead.size, unused },
    exported: { count: sources.length, float32Bytes: exportedBytes },
    cache: cachePlan(sources),
  };
}
