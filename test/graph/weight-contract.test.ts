/**
 * The weight-name contract between an architecture's spec, its exported weights and the decoder
 * graph: the graph reads exactly the weights the spec declares, a declared weight that is not
 * exported and an exported weight that is not read both fail the build, naming the tensor. Checked
 * on every hf-parity checkpoint and on the tiny checkpoints of the architectures that have no
 * Hugging Face fixture (gemma3_text, Phi-3 LongRoPE, OPT post-LN with projections, granite); only
 * headers are read and graphs built in memory.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExternalWeight } from '../../src/graph/builder.js';
import { buildDecoderGraph } from '../../src/graph/decoder.js';
import { parseMetrics } from '../../src/graph/metric-names.js';
import { openModel } from '../../src/models/load.js';
import type { DecoderSpec } from '../../src/models/types.js';
import { PARITY_DIR, parityCases } from '../helpers/fixtures.js';
import { buildGemma3, buildGranite, buildOptPostLn, buildPhi3LongRope } from '../helpers/reference-models.js';

const LENS = { metrics: parseMetrics('shannon'), topK: 0 };

function build(spec: DecoderSpec, weights: Map<string, ExternalWeight>): void {
  buildDecoderGraph(spec, weights, 'weights.bin', LENS);
}

/** The spec's weight declarations, each flipped; those that change which weights the graph reads. */
function flips(spec: DecoderSpec): [string, DecoderSpec][] {
  const out: [string, DecoderSpec][] = [];
  const flip = (what: string, change: (s: DecoderSpec) => void): void => {
    const s = structuredClone(spec);
    change(s);
    out.push([what, s]);
  };
  flip('qkNorm', (s) => (s.qkNorm = s.qkNorm ? undefined : { kind: 'rms', eps: 1e-6 }));
  flip('tiedEmbeddings', (s) => (s.tiedEmbeddings = !s.tiedEmbeddings));
  flip('noFinalNorm', (s) => (s.noFinalNorm = !s.noFinalNorm));
  flip('embedNorm', (s) => (s.embedNorm = !s.embedNorm));
  flip('embedProjection', (s) => (s.embedProjection = !s.embedProjection));
  flip('fusedQkv', (s) => (s.fusedQkv = s.fusedQkv ? undefined : 'blocks'));
  for (const b of ['qkv', 'o', 'mlp', 'lmHead'] as const) flip(`bias.${b}`, (s) => (s.bias = { ...s.bias, [b]: !s.bias?.[b] }));
  if (spec.residual === 'sequential' && spec.normPlacement !== 'post') flip('sandwichNorms', (s) => (s.sandwichNorms = !s.sandwichNorms));
  if (spec.residual === 'parallel') flip('sharedBlockNorm', (s) => (s.sharedBlockNorm = !s.sharedBlockNorm));
  if (spec.norm.kind === 'layer') flip('norm.bias', (s) => (s.norm.bias = s.norm.bias === false));
  if (spec.qkNorm?.kind === 'layer') flip('qkNorm.bias', (s) => (s.qkNorm!.bias = s.qkNorm!.bias === false));
  return out;
}

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-weight-contract-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cases: [string, () => string][] = [
  ...parityCases().map((c): [string, () => string] => [`hf-parity/${c.case}`, () => path.join(PARITY_DIR, c.case)]),
  ...([['gemma3_text', buildGemma3], ['phi3-longrope', buildPhi3LongRope], ['opt-postln', buildOptPostLn], ['granite', buildGranite]] as const).map(
    ([name, make]): [string, () => string] => [`reference/${name}`, () => {
      const dir = path.join(tmp, name);
      make(dir);
      return dir;
    }],
  ),
];

describe('weight contract', () => {
  for (const [name, dir] of cases) {
    it(name, () => {
      const { spec, weights: sources } = openModel(dir());
      const weights = new Map(sources.map((s): [string, ExternalWeight] => [s.name, { name: s.name, dims: s.dims, offset: 0, length: 0 }]));
      build(spec, weights); // the architecture as it is keeps the contract

      // every exported weight is needed: without it the build fails, naming it
      for (const w of weights.keys()) {
        if (/^layers\.(?!0\.)/.test(w)) continue; // the other layers repeat layer 0
        const fewer = new Map(weights);
        fewer.delete(w);
        assert.throws(() => build(spec, fewer), (e: Error) => e.message.includes(`'${w}'`) && /weight contract/.test(e.message), `without ${w}`);
      }
      // a weight exported but not read fails, naming it
      const more = new Map(weights).set('layers.0.attn.q_extra.weight', { name: 'layers.0.attn.q_extra.weight', dims: [1], offset: 0, length: 0 });
      assert.throws(() => build(spec, more), /weight contract: .*'layers\.0\.attn\.q_extra\.weight'.* not read/);

      // each declaration of the spec is pinned by the export: flipped, the build fails
      for (const [what, wrong] of flips(spec)) {
        assert.throws(() => build(wrong, weights), /weight contract/, `${name}: spec.${what} flipped still builds`);
      }
    });
  }
});
