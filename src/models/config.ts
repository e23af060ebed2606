/**
 * Typed accessors for config.json. A key may have aliases (HF renamed many: n_embd / hidden_size);
 * the first one present wins. JSON null counts as absent, because HF writes e.g.
 * "sliding_window": null to mean "not used".
 */
import { UserError } from '../util/errors.js';

const CONFIG_PATH = Symbol('entropylens.configPath');

/** Remembers where a parsed config came from, so accessor errors can name the file. */
export function attachConfigPath(cfg: Record<string, unknown>, file: string): void {
  Object.defineProperty(cfg, CONFIG_PATH, { value: file, enumerable: false, configurable: true, writable: true });
}

function configName(cfg: Record<string, unknown>): string {
  const p = (cfg as Record<symbol, unknown>)[CONFIG_PATH];
  return typeof p === 'string' ? p : 'config.json';
}

type Kind = 'number' | 'integer' | 'boolean' | 'string';

/** The first alias with a non-null value, or undefined. */
function lookup(cfg: Record<string, unknown>, key: string | string[]): { key: string; value: unknown } | undefined {
  for (const k of Array.isArray(key) ? key : [key]) {
    if (Object.prototype.hasOwnProperty.call(cfg, k) && cfg[k] !== null && cfg[k] !== undefined) return { key: k, value: cfg[k] };
  }
  return undefined;
}

function keyList(key: string | string[]): string {
  return Array.isArray(key) ? key.map((k) => `'${k}'`).join(' or ') : `'${key}'`;
}

function checked<T>(cfg: Record<string, unknown>, found: { key: string; value: unknown }, kind: Kind): T {
  const v = found.value;
  const ok =
    kind === 'integer' ? Number.isInteger(v) : kind === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === kind;
  if (!ok) {
    throw new UserError(
      `${configName(cfg)}: key '${found.key}' should be ${kind === 'integer' ? 'an integer' : `a ${kind}`}, found ${JSON.stringify(v)}; fix config.json`,
    );
  }
  return v as T;
}

function required<T>(cfg: Record<string, unknown>, key: string | string[], kind: Kind, dflt: T | undefined): T {
  const found = lookup(cfg, key);
  if (found) return checked<T>(cfg, found, kind);
  if (dflt !== undefined) return dflt;
  throw new UserError(`${configName(cfg)}: required key ${keyList(key)} is missing; add it to config.json (a ${kind})`);
}

function optional<T>(cfg: Record<string, unknown>, key: string | string[], kind: Kind): T | undefined {
  const found = lookup(cfg, key);
  return found ? checked<T>(cfg, found, kind) : undefined;
}

export function cfgNumber(cfg: Record<string, unknown>, key: string | string[], dflt?: number): number {
  return required<number>(cfg, key, 'number', dflt);
}
export function cfgInt(cfg: Record<string, unknown>, key: string | string[], dflt?: number): number {
  return required<number>(cfg, key, 'integer', dflt);
}
export function cfgBool(cfg: Record<string, unknown>, key: string | string[], dflt?: boolean): boolean {
  return required<boolean>(cfg, key, 'boolean', dflt);
}
export function cfgString(cfg: Record<string, unknown>, key: string | string[], dflt?: string): string {
  return required<string>(cfg, key, 'string', dflt);
}

export function cfgOptionalNumber(cfg: Record<string, unknown>, key: string | string[]): number | undefined {
  return optional<number>(cfg, key, 'number');
}
export function cfgOptionalInt(cfg: Record<string, unknown>, key: string | string[]): number | undefined {
  return optional<number>(cfg, key, 'integer');
}
export function cfgOptionalBool(cfg: Record<string, unknown>, key: string | string[]): boolean | undefined {
  return optional<boolean>(cfg, key, 'boolean');
}
export function cfgOptionalString(cfg: Record<string, unknown>, key: string | string[]): string | undefined {
  return optional<string>(cfg, key, 'string');
}

/** A nested object such as rope_scaling; undefined when absent or null. */
export function cfgOptionalObject(cfg: Record<string, unknown>, key: string | string[]): Record<string, unknown> | undefined {
  const found = lookup(cfg, key);
  if (!found) return undefined;
  const v = found.value;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new UserError(`${configName(cfg)}: key '${found.key}' should be an object, found ${JSON.stringify(v)}; fix config.json`);
  }
  const obj = v as Record<string, unknown>;
  // Nested accessors should name the same file.
  attachConfigPath(obj, `${configName(cfg)} (in '${found.key}')`);
  return obj;
}

/** A JSON array of any items (e.g. layer_types); undefined when absent or null. */
export function cfgOptionalArray(cfg: Record<string, unknown>, key: string | string[]): unknown[] | undefined {
  const found = lookup(cfg, key);
  if (!found) return undefined;
  if (!Array.isArray(found.value)) {
    throw new UserError(`${configName(cfg)}: key '${found.key}' should be a list, found ${JSON.stringify(found.value)}; fix config.json`);
  }
  return found.value;
}

/** An array of numbers (e.g. eos_token_id may be a number or a list); a single number becomes [n]. */
export function cfgOptionalNumberList(cfg: Record<string, unknown>, key: string | string[]): number[] | undefined {
  const found = lookup(cfg, key);
  if (!found) return undefined;
  const v = found.value;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  throw new UserError(`${configName(cfg)}: key '${found.key}' should be a number or a list of numbers, found ${JSON.stringify(v)}; fix config.json`);
}
