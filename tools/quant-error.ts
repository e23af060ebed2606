/**
 * The entropy error of `--quantize int8` against the exact float32 path (issue 16's table): every
 * Hugging Face parity fixture of test/fixtures on its golden prompts (6 greedy tokens), and the demo
 * model on 24 story prompts (8 greedy tokens). Per model: mean and max |ΔH| (nats) over the steps ×
 * layers where both runs have generated the same tokens so far, and how many tokens agree.
 *
 * Usage: node dist/tools/quant-error.js
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateStories } from '../src/datasets/demo-stories.js';
import { LensModel, type ProfileResult, type PromptInput } from '../src/lens/model.js';
import { supportedModelTypes } from '../src/models/registry.js';
import { assetPath } from '../src/util/package.js';
import { golden, parityCases, PARITY_DIR } from '../test/helpers/fixtures.js';

const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'el-quant-error-'));

async function profile(dir: string, prompts: PromptInput[], steps: number, quantize?: 'int8'): Promise<ProfileResult[]> {
  const m = await LensModel.load(dir, { cacheDir: cache, quantize });
  try {
    const out: ProfileResult[] = [];
    for await (const r of m.profile(prompts, { maxNewTokens: steps })) out.push(r);
    return out;
  } finally {
    await m.close();
  }
}

async function compare(label: string, dir: string, prompts: PromptInput[], steps: number): Promise<void> {
  const a = await profile(dir, prompts, steps);
  const b = await profile(dir, prompts, steps, 'int8');
  let sum = 0;
  let n = 0;
  let max = 0;
  let same = 0;
  let total = 0;
  a.forEach((r, i) => {
    r.metrics.shannon.forEach((row, t) => {
      if (r.generatedIds.slice(0, t).join() !== b[i].generatedIds.slice(0, t).join()) return;
      row.forEach((v, l) => {
        const d = Math.abs(v - b[i].metrics.shannon[t][l]);
        sum += d;
        n++;
        max = Math.max(max, d);
      });
    });
    r.generatedIds.forEach((id, t) => {
      total++;
      if (id === b[i].generatedIds[t]) same++;
    });
  });
  console.log(`| ${label} | ${(sum / n).toFixed(4)} | ${max.toFixed(4)} | ${same}/${total} |`);
}

try {
  console.log('| model | mean abs ΔH (nats) | max abs ΔH | tokens equal |\n| --- | --- | --- | --- |');
  const stories = generateStories(7, 24).map((s) => s.text.split(' ').slice(0, 12).join(' '));
  await compare('demo model (trained, llama, 6 layers)', assetPath('demo-model'), stories, 8);
  const supported = new Set(supportedModelTypes());
  for (const c of parityCases().filter((x) => supported.has(x.architecture))) {
    await compare(`${c.case} (random weights)`, path.join(PARITY_DIR, c.case), golden(c.case).prompts.map((p) => ({ ids: p.input_ids })), 6);
  }
} finally {
  fs.rmSync(cache, { recursive: true, force: true });
}
