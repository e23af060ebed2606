/** Asserting that a promise fails with a UserError whose message contains what the user needs. */
import assert from 'node:assert/strict';
import { UserError } from '../../src/util/errors.js';

/** Awaits the rejection, checks it is a UserError containing every needle, and returns its message. */
export async function rejectsUser(p: Promise<unknown>, ...needles: (string | RegExp)[]): Promise<string> {
  let message = '';
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    message = err.message;
    return true;
  });
  for (const n of needles) {
    if (typeof n === 'string') assert.ok(message.includes(n), `message lacks "${n}": ${message}`);
    else assert.match(message, n);
  }
  return message;
}
