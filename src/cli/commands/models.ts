/** `entropylens models`: the supported architectures, their features and well-known checkpoints. */
import type { Command } from 'commander';
import { ARCHITECTURES } from '../../models/registry.js';
import type { KnownCheckpoint } from '../../models/types.js';

/** The `entropylens models` document (also its --json form). */
export interface ModelsListing {
  architectures: { modelTypes: string[]; hfClasses: string[]; features: string[]; checkpoints: KnownCheckpoint[] }[];
}

export function modelsListing(): ModelsListing {
  const archs = [...ARCHITECTURES].sort((a, b) => a.modelTypes[0].localeCompare(b.modelTypes[0]));
  return { architectures: archs.map((a) => ({ modelTypes: a.modelTypes, hfClasses: a.hfClasses, features: a.features, checkpoints: a.checkpoints ?? [] })) };
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
}

export function formatModels(m: ModelsListing): string {
  const out: string[] = ['Supported architectures (config.json model_type → Hugging Face classes):', ''];
  for (const a of m.architectures) {
    out.push(`${a.modelTypes.join(', ')}  →  ${a.hfClasses.join(', ')}`);
    out.push(`  handles: ${a.features.join('; ')}`);
    if (a.checkpoints.length) {
      const rows = [['hub id', 'layers', 'd_model', 'heads', 'kv', 'vocab', 'params', 'note']];
      for (const c of a.checkpoints) {
        rows.push([c.hubId, String(c.layers), String(c.dModel), String(c.heads), String(c.kvHeads ?? c.heads), String(c.vocab), c.params, c.note ?? '']);
      }
      for (const line of table(rows)) out.push(`    ${line}`);
    }
    out.push('');
  }
  return out.join('\n');
}

export function register(program: Command): void {
  program
    .command('models')
    .description('List the supported architectures, what each handles, and well-known checkpoints per family')
    .option('--json', 'print one JSON document')
    .action((o: { json?: boolean }) => {
      const m = modelsListing();
      process.stdout.write(o.json ? `${JSON.stringify(m, null, 2)}\n` : `${formatModels(m)}`);
    });
}
