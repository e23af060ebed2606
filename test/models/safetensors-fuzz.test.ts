/**
 * The safetensors header parser under random and mutated input (tools/fuzz-safetensors.ts): only
 * UserErrors, no case over a second of CPU, no buffers sized by a number in the header, every
 * accepted header consistent with its file. A few thousand cases here, bounded by wall time (the CI
 * machine is shared); `node dist/tools/fuzz-safetensors.js --cases N` runs more.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { readSafetensorsHeader } from '../../src/models/safetensors.js';
import { UserError } from '../../src/util/errors.js';
import { fuzzSafetensors } from '../../tools/fuzz-safetensors.js';
import { tempDir } from '../helpers/safetensors-writer.js';

const dir = tempDir('el-stfuzz-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

it('random and mutated headers: only UserErrors, bounded CPU and memory, consistent results', () => {
  const r = fuzzSafetensors({ cases: 2500, seed: 20250213, budgetMs: 5000 });
  assert.deepEqual(r.failures.slice(0, 5), [], `${r.failures.length} failing cases`);
  assert.ok(r.cases >= 200, `only ${r.cases} cases ran`);
  assert.ok(r.accepted > 0 && r.refused > 0, `accepted ${r.accepted}, refused ${r.refused}`);
});

// Before the depth check JSON.parse took 0.9 s of CPU for this 2 MB header and 15 s for 20 MB (10M levels).
it('a header nested a million levels deep is refused without parsing it', () => {
  const depth = 1_000_000;
  const json = Buffer.from(`{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`);
  const file = path.join(dir, 'deep.safetensors');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json]));
  const cpu0 = process.cpuUsage();
  assert.throws(() => readSafetensorsHeader(file), (err: unknown) => err instanceof UserError && /nests .* more than 64 levels/.test(err.message));
  const cpu = process.cpuUsage(cpu0);
  assert.ok(cpu.user + cpu.system < 300_000, `${(cpu.user + cpu.system) / 1000} ms of CPU`);
});
