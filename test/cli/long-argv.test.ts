/**
 * Long command lines (issue 13 item 7): ONNX Runtime's telemetry used to run a recursive std::regex
 * over /proc/self/cmdline and overflow the stack from ~29 KB of arguments (SIGSEGV, no message).
 * The CLI runs here with an environment that does not switch ORT's telemetry off by itself (no
 * ORT_DISABLE_TELEMETRY, no CI variables, which ORT also honours), so the fix inside entropylens
 * is what is tested.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { CLI } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/safetensors-writer.js';
import { writeTinyLlama } from '../helpers/tiny-model.js';
import fs from 'node:fs';

// Variables ORT 1.30 reads to suppress its telemetry (core/platform/telemetry_environment.h).
const ORT_SUPPRESSORS = [
  'ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED', 'ORT_RUNNING_UNIT_TESTS', 'CI', 'TF_BUILD', 'GITHUB_ACTIONS',
  'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR',
  'BITBUCKET_BUILD_NUMBER', 'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI',
];

let root: string;
let model: string;

before(() => {
  root = tempDir('el-argv-');
  // Context 4096 tokens: room for the 39 KB prompt below (3,001 tokens), not for the 120 KB one.
  model = writeTinyLlama(path.join(root, 'model'), { layers: 2, seed: 3, context: 4096 });
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

function run(args: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !ORT_SUPPRESSORS.includes(k)) env[k] = v;
  env['ENTROPYLENS_CACHE'] = path.join(root, 'cache');
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

it('a 39 KB --prompt that fits the context is profiled (was SIGSEGV)', () => {
  // ' continuation' is one token of the demo tokenizer: 39,000 bytes, 3,000 tokens (+ BOS).
  const prompt = ' continuation'.repeat(3000);
  const r = run(['profile', model, '--prompt', prompt, '--max-new-tokens', '1', '--json']);
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.results[0].input_ids.length, 3001);
  assert.equal(doc.results[0].metrics.shannon.length, 1);
});

it('a 1 MB command line (eight 125 KB --prompt arguments) is refused with the context-length message', () => {
  // Linux caps one argument at 128 KiB (MAX_ARG_STRLEN), so a megabyte arrives as several.
  const prompt = 'Once upon a time there was a cat. '.repeat(3700); // 125,800 bytes each
  const args = ['profile', model];
  for (let i = 0; i < 8; i++) args.push('--prompt', prompt);
  args.push('--max-new-tokens', '1');
  const r = run(args);
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /prompt 1 has \d+ tokens; .* more than the model's context of 4096/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
