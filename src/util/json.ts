/** Guards for parsing JSON that comes from files a user (or an attacker) controls. */

/**
 * True when JSON text nests objects/arrays deeper than `limit` (string contents skipped). V8's
 * JSON.parse spends ~8 µs per level of `[[[[…`, so megabytes of brackets take minutes: such text
 * is refused before parsing. (Works on the UTF-8 bytes or on the string's UTF-16 code units.)
 */
export function nestsDeeperThan(text: Uint8Array | string, limit: number): boolean {
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
