/**
 * Which files of a dataset repo (or a local folder in the same layout) hold one split of one config.
 * Mirrors the conventions the `datasets` library resolves without a loading script:
 *   {config}/{split}-00000-of-00001.parquet        (cais/mmlu: all/test-00000-of-00001.parquet)
 *   data/{split}-00000-of-00001-<hash>.parquet      (roneneldan/TinyStories)
 *   {config}/{split}/0000.parquet                   (the hub's refs/convert/parquet branch)
 *   Name-{split synonym}.txt                        (TinyStories-valid.txt)
 * The exact split name wins over its synonyms, and Parquet over JSONL/JSON/CSV/TXT.
 */

/** Readable data formats, best first. */
export const DATA_EXTENSIONS = ['.parquet', '.jsonl', '.json', '.csv', '.txt'] as const;

const SPLIT_SYNONYMS: Record<string, string[]> = {
  validation: ['valid', 'val', 'dev'],
  test: ['testing', 'eval', 'evaluation'],
  train: ['training'],
};

export interface SplitQuery {
  /** Dataset config (subset); `default` or undefined means the repo has one. */
  config?: string;
  split: string;
}

function extensionOf(path: string): string | undefined {
  const lower = path.toLowerCase();
  return DATA_EXTENSIONS.find((ext) => lower.endsWith(ext));
}

/** True when `name` is a directory of the path or a delimited word of its file name. */
function mentionsSplit(path: string, name: string): boolean {
  const parts = path.split('/');
  const base = parts.pop()!;
  if (parts.includes(name)) return true;
  const stem = base.replace(/\.[^.]+$/, '');
  const words = stem.split(/[-_. ]+/);
  return words.includes(name) || stem.startsWith(`${name}-`);
}

/** Config names present in a listing: first folders that hold data files (besides generic `data`). */
export function configsIn(files: string[]): string[] {
  const set = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    if (parts.length > 1 && extensionOf(f) && parts[0] !== 'data') set.add(parts[0]!);
  }
  return [...set].sort();
}

export function selectSplitFiles(files: string[], query: SplitQuery): string[] {
  let data = files.filter((f) => extensionOf(f) !== undefined && !/(^|\/)(README|LICENSE)[^/]*$/i.test(f));
  if (query.config && query.config !== 'default') {
    const prefix = `${query.config}/`;
    data = data.filter((f) => f.startsWith(prefix));
  }
  const names = [query.split, ...(SPLIT_SYNONYMS[query.split] ?? [])];
  for (const name of names) {
    const matched = data.filter((f) => mentionsSplit(f, name));
    if (matched.length === 0) continue;
    for (const ext of DATA_EXTENSIONS) {
      const group = matched.filter((f) => extensionOf(f) === ext);
      if (group.length > 0) return group.sort();
    }
  }
  return [];
}
