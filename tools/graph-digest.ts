/**
 * Graph digests: proves a refactoring left the ONNX graphs and the exported weights byte-identical.
 *
 * For every Hugging Face parity checkpoint (test/fixtures/hf-parity), the tiny checkpoints of the
 * float64-reference tests, the tiny Llama of the tests and the demo model, it loads the model
 * through the public API into a fresh cache folder per lens configuration and prints the sha256 of
 * the graph file built, of weights.bin and the entries of weights.json, of the normalised spec (keys sorted) and of
 * the `inspect` report. Run it on two builds and diff the outputs.
 *
 * Usage: npx tsc -p tsconfig.json && node dist/tools/graph-digest.js [--out FILE]
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LensModel, type ProfileOptions } from '../src/lens/model.js';
import { inspectModel } from '../src/models/inspect.js';
import { assetPath } from '../src/util/package.js';
import { PARITY_DIR, parityCases } from '../test/helpers/fixtures.js';
import { buildGemma3, buildGranite, buildOptPostLn, buildPhi3LongRope } from '../test/helpers/reference-models.js';
import { writeTinyLlama } from '../test/helpers/tiny-model.js';

const ALL_METRICS = ['shannon', 'renyi:0', 'renyi:0.5', 'renyi:2', 'renyi:inf', 'moment:2', 'moment:3', 'thresholded:shannon', 'thresholded:moment:2', 'kl:final', 'kl:next', 'anchored:shannon', 'anchored:renyi:2'];

/** The lens configurations digested for every checkpoint. */
const CONFIGS: Record<string, ProfileOptions> = {
  'shannon-b1': { batchSize: 1 },
  'shannon-b8': { batchSize: 8 },
  'all-topk-anchors-b8': { metrics: ALL_METRICS, topK: 5, anchorIds: [1, 5, 17, 40], batchSize: 8 },
  'all-topk-anchors-groups3': { metrics: ALL_METRICS, topK: 5, anchorIds: [1, 5, 17, 40], batchSize: 8, lensGroups: 3 },
  'intervention-b1': { metrics: ['shannon', 'kl:next'], interventions: [{ kind: 'scale', layer: 0, factor: 0.5 }, { kind: 'skip', layer: 1 }], batchSize: 1 },
};

function sha(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 32);
}

/** JSON with sorted keys and typed arrays as plain arrays: equal specs give equal text. */
function canonical(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

function onlyFile(dir: string, test: (name: string) => boolean): string {
  const found = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => test(path.basename(f)));
  if (found.length !== 1) throw new Error(`${dir}: expected one match, found ${found.join(', ') || 'none'}`);
  return path.join(dir, found[0]);
}

async function digest(name: string, dir: string, tmp: string, lines: string[]): Promise<void> {
  const report = inspectModel(dir);
  let first = true;
  for (const [tag, opts] of Object.entries(CONFIGS)) {
    const cacheDir = path.join(tmp, `${name}-${tag}`);
    const model = await LensModel.load(dir, { cacheDir, threads: 1, profile: opts });
    try {
      if (first) {
        const bin = onlyFile(cacheDir, (f) => f === 'weights.bin');
        lines.push(`${name} spec ${sha(JSON.stringify(canonical(model.spec)))}`);
        lines.push(`${name} weights.bin ${sha(fs.readFileSync(bin))}`);
        // the entries only: the index's key holds the checkpoint files' mtimes
        const index = JSON.parse(fs.readFileSync(path.join(path.dirname(bin), 'weights.json'), 'utf8')) as { entries: unknown };
        lines.push(`${name} weights.json ${sha(JSON.stringify(index.entries))}`);
        lines.push(`${name} inspect ${sha(JSON.stringify(canonical({ ...report, dir: undefined })))}`);
        first = false;
      }
      lines.push(`${name} graph:${tag} ${sha(fs.readFileSync(onlyFile(cacheDir, (f) => f.startsWith('graph-') && f.endsWith('.onnx'))))}`);
    } finally {
      await model.close();
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
}

async function main(): Promise<void> {
  const outIdx = process.argv.indexOf('--out');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-graph-digest-'));
  const lines: string[] = [];
  try {
    const models: [string, string][] = parityCases().map((c) => [`hf-parity/${c.case}`, path.join(PARITY_DIR, c.case)]);
    const builders: [string, (dir: string) => unknown][] = [
      ['reference/gemma3_text', buildGemma3],
      ['reference/granite', buildGranite],
      ['reference/opt-postln', buildOptPostLn],
      ['reference/phi3-longrope', buildPhi3LongRope],
      ['tiny-llama', (d) => writeTinyLlama(d, { layers: 4, seed: 3 })],
    ];
    for (const [name, build] of builders) {
      const d = path.join(tmp, 'models', name.replace('/', '-'));
      build(d);
      models.push([name, d]);
    }
    models.push(['demo-model', assetPath('demo-model')]);
    for (const [name, dir] of models) {
      await digest(name, dir, tmp, lines);
      process.stderr.write(`${name} done\n`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const text = lines.join('\n') + '\n';
  if (outIdx > 0) fs.writeFileSync(process.argv[outIdx + 1], text);
  process.stdout.write(text);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
