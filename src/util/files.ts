/**
 * Opening input files safely: regular files only. A FIFO would block the open (or the read) forever,
 * a device such as /dev/zero never ends, and a directory fails later with a bare EISDIR; each is
 * refused at once with a message naming the file.
 */
import fs from 'node:fs';
import { UserError } from './errors.js';

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer; it has no
// effect on regular files. (Windows has no FIFOs and no such flag.)
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(file: string, what: string, kind: string): UserError {
  return new UserError(`${what} ${file} is ${kind}, not a regular file: entropylens reads regular files only; put the file itself there.`);
}

function openError(file: string, what: string, e: unknown): UserError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return new UserError(`${what} not found: ${file}`);
  // Some systems refuse to open a directory at all: the same words as when fstat finds one.
  if (err.code === 'EISDIR') return notRegular(file, what, 'a directory');
  return new UserError(`cannot open ${what} ${file}: ${err.message}`);
}

/** A read-only descriptor of `file`, which must be a regular file (after following symlinks). */
export function openRegularFileSync(file: string, what: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (e) {
    throw openError(file, what, e);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw notRegular(file, what, kindOf(st));
  }
  return fd;
}

/** The text of a regular file (see openRegularFileSync). */
export function readRegularFileSync(file: string, what: string): string {
  const fd = openRegularFileSync(file, what);
  try {
    return fs.readFileSync(fd, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Async form of readRegularFileSync. */
export async function readRegularFile(file: string, what: string): Promise<string> {
  return (await readRegularFileBytes(file, what)).toString('utf8');
}

/** The bytes of a regular file (see openRegularFileSync). */
export async function readRegularFileBytes(file: string, what: string): Promise<Buffer> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, OPEN_FLAGS);
  } catch (e) {
    throw openError(file, what, e);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(file, what, kindOf(st));
    return await fh.readFile();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
}

/** Throws unless `file` is a regular file (for readers that open the file themselves). */
export async function assertRegularFile(file: string, what: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    throw openError(file, what, e);
  }
  if (!st.isFile()) throw notRegular(file, what, kindOf(st));
}
