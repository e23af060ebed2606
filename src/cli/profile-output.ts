/** Where `profile` results can go besides stdout: a results dataset (--out) and NumPy arrays (--npz). */
import { createHash } from 'node:crypto';
import type { ProfileResult, PromptInput } from '../lens/model.js';
import { writeNpz, type NpyArray } from '../store/npz.js';
import { ResultsWriter } from '../store/writer.js';

/**
 * Sample id of a profile prompt: its place in the input and a digest of its text or ids, so a resumed
 * run skips a prompt only when the same prompt is at the same place.
 */
export function profileSampleId(index: number, prompt: PromptInput): string {
  const content = typeof prompt === 'string' ? prompt : 'ids' in prompt ? `ids:${prompt.ids.join(',')}` : prompt.text;
  return `p${index}-${createHash('sha256').update(content).digest('hex').slice(0, 10)}`;
}

/**
 * `profile --out DIR`: the results as a dataset like `run` writes (one row per prompt and metric,
 * experiment `profile`, label `prompt_index`), a part file every `every` prompts. A folder holding a
 * profile run with the same options is resumed: its prompts are skipped by the caller (`has`).
 */
export class ProfileDatasetWriter {
  private pending: { r: ProfileResult; id: string }[] = [];

  private constructor(
    private readonly writer: ResultsWriter,
    private readonly every: number,
  ) {}

  static async open(dir: string, model: string, options: Record<string, unknown>, every = 64): Promise<ProfileDatasetWriter> {
    const writer = await ResultsWriter.open(dir, { model, experiment: 'profile', options, labelColumns: { prompt_index: 'int' } });
    return new ProfileDatasetWriter(writer, every);
  }

  has(index: number, prompt: PromptInput): boolean {
    return this.writer.has(profileSampleId(index, prompt));
  }

  async add(r: ProfileResult, prompt: PromptInput): Promise<void> {
    this.pending.push({ r, id: profileSampleId(r.index, prompt) });
    if (this.pending.length >= this.every) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending.flatMap(({ r, id }) =>
      Object.entries(r.metrics).map(([metric, m]) => ({
        sample_id: id,
        metric,
        labels: { prompt_index: r.index },
        prompt: r.prompt ?? r.inputIds.join(' '),
        completion: r.completion ?? r.generatedIds.join(' '),
        n_steps: m.length,
        n_layers: m[0]?.length ?? 0,
        values: m.flat(),
        sample_index: r.index,
      })),
    );
    this.pending = [];
    await this.writer.appendShard(rows);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.writer.finish();
  }
}

/**
 * `profile --npz FILE`: per metric a float32 array [prompts, steps, layers] (and `windows/<metric>`
 * [prompts, windows, layers]), `argmax` int32 [prompts, steps, layers], `generated_ids` int32
 * [prompts, steps], `input_ids` int32 [prompts, longest prompt], `prompt_lengths` and `n_steps`
 * int32 [prompts]. Prompts that stopped early (--stop-at-eos) are padded with NaN (floats) or −1 (ids).
 */
export async function writeProfileNpz(file: string, results: ProfileResult[]): Promise<void> {
  const P = results.length;
  const T = Math.max(0, ...results.map((r) => r.generatedIds.length));
  const L = results[0]?.argmax[0]?.length ?? results[0]?.positions?.argmax[0]?.length ?? 0;
  const arrays: Record<string, NpyArray> = {};
  const cube = (get: (r: ProfileResult) => number[][] | undefined, steps: number): Float32Array => {
    const out = new Float32Array(P * steps * L).fill(NaN);
    results.forEach((r, p) => get(r)?.forEach((row, t) => out.set(row, (p * steps + t) * L)));
    return out;
  };
  for (const name of Object.keys(results[0]?.metrics ?? {})) arrays[name] = { dtype: 'f4', shape: [P, T, L], data: cube((r) => r.metrics[name], T) };
  for (const name of Object.keys(results[0]?.windows ?? {})) {
    const W = results[0].windows![name].length;
    arrays[`windows/${name}`] = { dtype: 'f4', shape: [P, W, L], data: cube((r) => r.windows?.[name], W) };
  }
  const ints = (shape: number[], fill: (out: Int32Array) => void): NpyArray => {
    const data = new Int32Array(shape.reduce((a, b) => a * b, 1)).fill(-1);
    fill(data);
    return { dtype: 'i4', shape, data };
  };
  arrays.argmax = ints([P, T, L], (out) => results.forEach((r, p) => r.argmax.forEach((row, t) => out.set(row, (p * T + t) * L))));
  arrays.generated_ids = ints([P, T], (out) => results.forEach((r, p) => out.set(r.generatedIds, p * T)));
  const S = Math.max(0, ...results.map((r) => r.inputIds.length));
  arrays.input_ids = ints([P, S], (out) => results.forEach((r, p) => out.set(r.inputIds, p * S)));
  arrays.prompt_lengths = ints([P], (out) => results.forEach((r, p) => (out[p] = r.inputIds.length)));
  arrays.n_steps = ints([P], (out) => results.forEach((r, p) => (out[p] = r.generatedIds.length)));
  const rows = (get: (r: ProfileResult) => number[][] | undefined, steps: number): ((out: Int32Array) => void) => (out) =>
    results.forEach((r, p) => get(r)?.forEach((row, t) => out.set(row, (p * steps + t) * L)));
  if (results[0]?.target) {
    arrays['target/id'] = ints([P], (out) => results.forEach((r, p) => (out[p] = r.target!.id)));
    arrays['target/prob'] = { dtype: 'f4', shape: [P, T, L], data: cube((r) => r.target && r.target.logprob.map((row) => row.map(Math.exp)), T) };
    arrays['target/rank'] = ints([P, T, L], rows((r) => r.target?.rank, T));
  }
  if (results[0]?.positions) {
    // position p of prompt i at [i, p]; positions past a prompt's length are NaN (or -1)
    for (const name of Object.keys(results[0].positions.metrics)) arrays[`positions/${name}`] = { dtype: 'f4', shape: [P, S, L], data: cube((r) => r.positions?.metrics[name], S) };
    arrays['positions/argmax'] = ints([P, S, L], rows((r) => r.positions?.argmax, S));
    const N = Math.max(0, S - 1);
    arrays['positions/next_prob'] = { dtype: 'f4', shape: [P, N, L], data: cube((r) => r.positions?.nextLogprob.map((row) => row.map(Math.exp)), N) };
    arrays['positions/next_rank'] = ints([P, N, L], rows((r) => r.positions?.nextRank, N));
  }
  await writeNpz(file, arrays);
}
