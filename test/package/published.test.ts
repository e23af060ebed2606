/**
 * The package as a user installs it: `npm pack`, unpacked into a project of its own (dependencies
 * linked from this repository, no network), imported at run time through its three entry points
 * (`entropylens`, `entropylens/analysis`, `entropylens/store`) and type-checked with skipLibCheck
 * off — with and without @types/node in the user's project.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const root = tempDir('el-published-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

it('npm pack: the entry points import and type-check without skipLibCheck', () => {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const tgz = execFileSync(npm, ['pack', '--ignore-scripts', '--silent', '--pack-destination', root], { cwd: REPO_ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  const pkg = path.join(root, 'node_modules', 'entropylens');
  fs.mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['xzf', path.join(root, tgz), '-C', pkg, '--strip-components', '1']);
  for (const dep of fs.readdirSync(path.join(REPO_ROOT, 'node_modules'))) {
    if (!fs.existsSync(path.join(root, 'node_modules', dep))) fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', dep), path.join(root, 'node_modules', dep));
  }
  fs.writeFileSync(
    path.join(root, 'use.ts'),
    [
      "import { LensModel, parseMetrics, type ProfileResult } from 'entropylens';",
      "import { evaluateProfiles, TSNE } from 'entropylens/analysis';",
      "import { ResultsWriter, readResults, mergeDataset, type ResultRow } from 'entropylens/store';",
      'export const used: unknown[] = [LensModel, parseMetrics, evaluateProfiles, TSNE, ResultsWriter, readResults, mergeDataset];',
      'export type Used = [ProfileResult, ResultRow];',
    ].join('\n'),
  );
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await Promise.all(['entropylens', 'entropylens/analysis', 'entropylens/store'].map((s) => import(s))); console.log(m.map((x) => Object.keys(x).length).join(' '))"], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^\d+ \d+ \d+/);
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const types of [['node'], []]) {
    fs.writeFileSync(
      path.join(root, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, types }, files: ['use.ts'] }),
    );
    const r = spawnSync(process.execPath, [tsc, '-p', root], { encoding: 'utf8' });
    assert.equal(r.status, 0, `types ${JSON.stringify(types)}:\n${r.stdout}${r.stderr}`);
  }
});
