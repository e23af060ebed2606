/** `entropylens plot`: a results dataset's figures (SVG, PNG, Vega-Lite). */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';


export function register(program: Command): void {
  program
    .command('plot')
    .description("Draw a results dataset's figures (SVG + PNG + Vega-Lite spec)")
    .argument('<results>', 'results folder written by `entropylens run …`')
    .option('--out <dir>', 'where to write (default: <results>/figures)')
    .option('--label <column>', 'group by this label column (default: the experiment\'s label)')
    .option('--metric <name>', 'only this metric')
    .option('--sample <id>', 'also draw the steps × layers heatmap of one sample')
    .option('--partial', 'read a sharded run whose shards are not all complete')
    .action(async (results: string, o: { out?: string; label?: string; metric?: string; sample?: string; partial?: boolean }) => {
      const { matrixOf, writeRunFigures } = await import('../../experiments/figures.js');
      const { modelLabel } = await import('../../plot/figures.js');
      const { heatmap, renderSpec } = await import('../../plot/index.js');
      const { defaultLabel, isFiniteRow, readResults } = await import('../../store/index.js');
      const data = await readResults(results, { metric: o.metric, partial: o.partial });
      const finite = data.rows.filter(isFiniteRow);
      if (finite.length < data.rows.length) process.stdout.write(`note: ${data.rows.length - finite.length} rows whose values hold NaN or Inf are left out of the figures\n`);
      data.rows = finite;
      if (data.rows.length === 0) throw new UserError(`${results} has no rows${o.metric ? ` for metric '${o.metric}'` : ''}`);
      const experiment = data.manifest.experiment;
      const dirName = o.out ? path.relative(results, path.resolve(o.out)) : 'figures';
      let embedding: number[][] | undefined;
      const tsneFile = path.join(results, 'tsne.json');
      if (experiment === 'families' && fs.existsSync(tsneFile)) {
        const doc = JSON.parse(fs.readFileSync(tsneFile, 'utf8')) as { points: { sample_id: string; x: number; y: number }[] };
        const byId = new Map(doc.points.map((p) => [p.sample_id, [p.x, p.y]]));
        const shannon = data.rows.filter((r) => r.metric === 'shannon');
        if (shannon.every((r) => byId.has(r.sample_id))) embedding = shannon.map((r) => byId.get(r.sample_id)!);
      }
      const rows = experiment === 'families' && embedding ? data.rows.filter((r) => r.metric === 'shannon') : data.rows;
      const pngs = await writeRunFigures(results, experiment, rows, { label: o.label ?? (experiment === 'families' ? undefined : defaultLabel(experiment)), embedding, dirName });
      if (o.sample) {
        const picked = data.rows.filter((r) => r.sample_id === o.sample);
        if (picked.length === 0) throw new UserError(`--sample '${o.sample}' is not in ${results}`);
        for (const r of picked) {
          const base = path.join(results, dirName, `sample-${r.sample_id.replace(/[^A-Za-z0-9._-]+/g, '_')}-${r.metric.replace(/[^A-Za-z0-9._-]+/g, '_')}`);
          const clip = (t: string, n: number): string => (t.length > n ? `${t.slice(0, n - 1)}…` : t);
          const out = await renderSpec(
            heatmap(matrixOf(r), {
              metric: r.metric,
              title: `${modelLabel(r.model)}, ${r.metric}: sample ${r.sample_id}`,
              subtitle: [`prompt: ${JSON.stringify(clip(r.prompt.replace(/\s+/g, ' ').trim(), 90))}`, `completion: ${JSON.stringify(clip(r.completion, 90))}`],
              xLabel: 'layer (block index)',
              yLabel: 'generated token (step)',
            }),
            base,
          );
          pngs.push(out.png);
        }
      }
      process.stdout.write(pngs.map((p) => `wrote ${p}`).join('\n') + '\n');
    });
}
