/**
 * Experiment wall times (a script that prints figures, not a test): `run tinystories --n-stories 10`
 * and `run mmlu --limit 200` through the real CLI on the GPT-2-small-shaped random model (with the
 * demo tokenizer), on synthetic stories and questions written here. The weight cache is built
 * first, so the times are of warm runs (load + generation + evaluation + figures).
 *
 * Usage: node dist/bench/runs.js
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateStories } from '../src/datasets/demo-stories.js';
import { assetPath } from '../src/util/package.js';
import { writeModel } from './gpt2-small.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'el-bench-runs-'));
try {
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, Node ${process.version}`);
  const model = path.join(tmp, 'gpt2-small-random');
  writeModel(model, assetPath('demo-model'));
  const env = { ...process.env, ENTROPYLENS_CACHE: path.join(tmp, 'cache') };
  const stories = path.join(tmp, 'stories.jsonl');
  fs.writeFileSync(stories, generateStories(4242, 10).map((s) => JSON.stringify({ text: s.text })).join('\n') + '\n');
  const mmlu = path.join(tmp, 'mmlu.jsonl');
  const subjects = ['astronomy', 'biology', 'chemistry', 'geography', 'history'];
  fs.writeFileSync(
    mmlu,
    Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({
        question: `Which of these numbers is the sum of ${i} and ${(i * 7) % 13}, written in base ten?`,
        subject: subjects[i % subjects.length],
        choices: [`${i + ((i * 7) % 13)}`, `${i + 1}`, `${2 * i + 5}`, `${i + 17}`],
        answer: i % 4,
      }),
    ).join('\n') + '\n',
  );
  const time = (label: string, args: string[]): void => {
    const t = performance.now();
    execFileSync(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    console.log(`${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  time('weight cache build (profile, 1 prompt, 1 token)', ['profile', model, '--prompt', 'warm up', '--max-new-tokens', '1', '--json']);
  time('run tinystories --n-stories 10 (240 prompts, 8 sampled tokens)', ['run', 'tinystories', '--model', model, '--dataset', stories, '--n-stories', '10', '--out', path.join(tmp, 'ts')]);
  time('run mmlu --limit 200 (200 prompts, 8 greedy tokens)', ['run', 'mmlu', '--model', model, '--dataset', mmlu, '--limit', '200', '--prompt-type', 'base', '--out', path.join(tmp, 'mmlu')]);

  // --shard overhead: the same run as 4 shards one after another vs unsharded, both without figures,
  // measured in turn, twice each. What each extra shard should add is a run's fixed cost: process
  // start, model load (session creation), dataset and writer, the first batch's warm-up and the
  // final evaluation — measured as a run of one sample.
  const shardArgs = (out: string, limit = 200): string[] => ['run', 'mmlu', '--model', model, '--dataset', mmlu, '--limit', String(limit), '--prompt-type', 'base', '--no-figures', '--out', out];
  const seconds = (args: string[]): number => {
    const t = performance.now();
    execFileSync(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    return (performance.now() - t) / 1000;
  };
  for (let rep = 0; rep < 2; rep++) {
    const fixed = seconds(shardArgs(path.join(tmp, `one-${rep}`), 1));
    const whole = seconds(shardArgs(path.join(tmp, `whole-${rep}`)));
    let sharded = 0;
    for (let i = 0; i < 4; i++) sharded += seconds([...shardArgs(path.join(tmp, `sharded-${rep}`)), '--shard', `${i}/4`]);
    console.log(
      `--shard overhead, mmlu --limit 200: unsharded ${whole.toFixed(1)} s, 4 shards in turn ${sharded.toFixed(1)} s ` +
        `(+${(sharded - whole).toFixed(1)} s = ${(100 * (sharded / whole - 1)).toFixed(0)}%); a run of one sample (its fixed cost) ${fixed.toFixed(1)} s, ×3 = ${(3 * fixed).toFixed(1)} s`,
    );
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
