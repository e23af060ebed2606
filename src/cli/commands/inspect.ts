/** `entropylens inspect`: what entropylens reads from a checkpoint, printed or as JSON, without running it. */
import type { Command } from 'commander';
import type { InspectReport } from '../../models/inspect.js';
import { resolveModel } from '../args.js';

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]} (${n} bytes)`;
}

/** Layer lists as ranges: [0,1,2,5] → "0-2, 5". */
function ranges(layers: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < layers.length; ) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j] + 1) j++;
    out.push(i === j ? String(layers[i]) : `${layers[i]}-${layers[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

export function formatInspect(r: InspectReport): string {
  const lines: [string, string][] = [];
  const add = (k: string, v: string): void => void lines.push([k, v]);
  add('folder', r.dir);
  add('model_type', `${r.modelType}${r.hfArchitectures.length ? ` (${r.hfArchitectures.join(', ')})` : ''}`);
  add('handled as', `${r.handledBy.modelTypes[0]} (${r.handledBy.hfClasses.join(', ')})`);
  add('layers', String(r.layers));
  add('d_model', String(r.dModel));
  add('heads', `${r.heads} query, ${r.kvHeads} key/value, head_dim ${r.headDim}`);
  add('vocab', r.unembedRows === r.configVocab ? String(r.configVocab) : `${r.unembedRows} unembedding rows (config vocab_size ${r.configVocab})`);
  add('context', String(r.maxPositions));
  add('dtype', `${r.dtypes.join(', ')}${r.torchDtype ? ` (config torch_dtype ${r.torchDtype})` : ''}; computed in float32`);
  add('embeddings', r.tiedEmbeddings ? 'tied (the unembedding is the embedding matrix)' : 'untied (separate lm_head)');
  const n = r.norm;
  add('norm', `${n.kind} eps ${n.eps}, ${n.placement}-norm${n.sandwich ? ', post-attention/MLP norms too' : ''}${n.embedNorm ? ', on the embeddings too' : ''}${n.qkNorm ? `, ${n.qkNorm} on q/k per head` : ''}${n.finalNorm ? '' : ', no final norm'}`);
  add('block', `${r.residual} residual${r.sharedBlockNorm ? ' (one norm feeds attention and MLP)' : ''}; MLP ${r.mlp.gated ? 'gated ' : ''}${r.mlp.activation}`);
  if (r.rope && r.ropeConfig) {
    const c = r.ropeConfig;
    add('positions', `rotary, theta ${c.theta ?? 'default'}${c.localTheta !== null ? `, local theta ${c.localTheta}` : ''}, rope_scaling ${c.scaling === null ? 'none' : JSON.stringify(c.scaling)}`);
    for (const g of r.rope) {
      const extra = [g.longrope ? `longrope beyond ${g.longrope.originalMaxPositions}` : '', g.attentionFactor ? `cos/sin × ${g.attentionFactor.toFixed(4)}` : '', g.dynamicNtk ? `dynamic NTK factor ${g.dynamicNtk.factor}` : '']
        .filter(Boolean)
        .join(', ');
      add('  rotary', `layers ${ranges(g.layers)}: ${g.rotaryDim} of ${r.headDim} dims, inv_freq ${g.invFreqRange[0].toPrecision(4)}…${g.invFreqRange[1].toPrecision(4)}${extra ? `, ${extra}` : ''}`);
    }
  } else if (r.alibi) {
    add('positions', `ALiBi, bias ${r.alibi.order}${r.alibi.bfloat16 ? ', bfloat16' : ''}${r.alibi.repeatedInMask ? ', counted twice as HF eager attention does' : ''}`);
  } else if (r.learnedPositions) {
    add('positions', `learned, ${r.learnedPositions.table} rows${r.learnedPositions.offset ? `, looked up at position + ${r.learnedPositions.offset}` : ''}`);
  } else {
    add('positions', r.positions);
  }
  if (r.slidingWindow) {
    const byWindow = new Map<number, number[]>();
    r.slidingWindow.perLayer.forEach((w, l) => w !== null && byWindow.set(w, [...(byWindow.get(w) ?? []), l]));
    add('sliding window', [...byWindow].map(([w, ls]) => `${w} on layers ${ranges(ls)}`).join('; ') + `; ${r.layers - r.slidingWindow.slidingLayers} global`);
  } else {
    add('sliding window', 'none');
  }
  add('attention scale', Array.isArray(r.attnScale) ? `per layer ${r.attnScale.map((s) => s.toPrecision(4)).join(', ')}` : r.attnScale.toPrecision(6));
  add('soft-caps', `attention ${r.attnSoftcap ?? 'none'}, final logits ${r.finalSoftcap ?? 'none'}${r.finalSoftcap ? ' (the lens applies it too)' : ''}`);
  if (r.embedScale !== null) add('embedding scale', String(r.embedScale));
  add('tensors', `${r.tensors.count} found, ${bytes(r.tensors.bytes)}; ${r.tensors.used} used`);
  if (r.tensors.unused.length) {
    const shown = r.tensors.unused.slice(0, 8);
    add('  unused', `${shown.join(', ')}${r.tensors.unused.length > shown.length ? `, … (${r.tensors.unused.length} in all)` : ''}`);
  }
  add('exported', `${r.exported.count} weights, ${bytes(r.exported.float32Bytes)} as float32`);
  add('  in place', `${r.cache.inPlace.count} read from the checkpoint's files as stored, ${bytes(r.cache.inPlace.bytes)}`);
  const copied = r.cache.copied;
  const shown = copied.names.slice(0, 6);
  add('  cached', copied.count === 0 ? 'none' : `${copied.count} copied to the weight cache (at most ${bytes(copied.float32Bytes)}: 16-bit values stay 16-bit): ${shown.join(', ')}${copied.names.length > shown.length ? ', …' : ''}`);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('Show what entropylens reads from a checkpoint (architecture, sizes, dtype, positions, windows, soft-caps, tensors) without running it')
    .argument('<model>', 'model folder (config.json + *.safetensors)')
    .option('--json', 'print one JSON document')
    .action(async (modelArg: string, o: { json?: boolean }) => {
      const { inspectModel } = await import('../../models/inspect.js');
      const report = inspectModel(await resolveModel(modelArg));
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspect(report));
    });
}
