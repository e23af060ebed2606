/** A Python for checks that real Python tools read our files (numpy, pandas); tests skip without one. */
import { spawnSync } from 'node:child_process';

/** Debian's Python (the `python3` on PATH may be another one) that imports `module`: ENTROPYLENS_PYTHON, /usr/bin/python3, python3. */
export function python(module: string): string | undefined {
  for (const py of [process.env.ENTROPYLENS_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => Boolean(p))) {
    if (spawnSync(py, ['-c', `import ${module}`]).status === 0) return py;
  }
  return undefined;
}
