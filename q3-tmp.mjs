import { LensModel } from './dist/src/lens/model.js';
import { generateStories } from './dist/src/datasets/demo-stories.js';
const prompts = generateStories(7, 24).map((s) => s.text.split(' ').slice(0, 12).join(' '));
const run = async (quantize) => {
  const m = await LensModel.load('assets/demo-model', { cacheDir: '/tmp/q-cache', threads: 2, quantize });
  const out = []; for await (const r of m.profile(prompts, { maxNewTokens: 8 })) out.push(r);
  await m.close(); return out;
};
const a = await run(undefined), b = await run('int8');
let sum = 0, n = 0, max = 0, same = 0, tot = 0;
a.forEach((r, i) => { r.metrics.shannon.forEach((row, t) => { if (r.generatedIds.slice(0, t).join() !== b[i].generatedIds.slice(0, t).join()) return; row.forEach((v, l) => { const d = Math.abs(v - b[i].metrics.shannon[t][l]); sum += d; n++; max = Math.max(max, d); }); }); r.generatedIds.forEach((id, t) => { tot++; if (id === b[i].generatedIds[t]) same++; }); });
console.log('demo: mean |dH|', (sum / n).toFixed(4), 'max', max.toFixed(4), 'over', n, 'cells with the same prefix; tokens same', same + '/' + tot);
