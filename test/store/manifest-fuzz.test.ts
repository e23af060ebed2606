/**
 * The manifest reader under random and mutated manifests and writer records (tools/fuzz-manifest.ts):
 * only UserErrors, bounded CPU and memory. A few thousand cases here within a wall-time budget;
 * `node dist/tools/fuzz-manifest.js --cases N` runs more.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fuzzManifest } from '../../tools/fuzz-manifest.js';

it('random and mutated manifests: only UserErrors, bounded CPU and memory', async () => {
  const r = await fuzzManifest({ cases: 3000, seed: 20261128, budgetMs: 5000 });
  assert.deepEqual(r.failures.slice(0, 3), [], `${r.failures.length} failing cases`);
  assert.ok(r.cases >= 300, `only ${r.cases} cases ran`);
  assert.ok(r.accepted > 0 && r.refused > 0, `accepted ${r.accepted}, refused ${r.refused}`);
});
