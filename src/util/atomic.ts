/**
 * Files that appear whole or not at all: data goes to a temporary file in the same folder, is
 * flushed to disk, and is renamed over the target (a rename within one file system is atomic,
 * also on NFS). A failure (a full disk, a kill) leaves the previous file, or none — never a
 * truncated one; the temporary is removed when the process is still alive to do it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';

/** Temporaries carry this marker; `isTemporary` recognises them so a later run can clean up. */
const TMP_MARK = '.tmp-';

export function temporaryName(file: string): string {
  return `${file}${TMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function isTemporary(name: string): boolean {
  return /\.tmp-\d+-[0-9a-f]+$/.test(name) || /\.tmp-\d+-\d+$/.test(name);
}

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = temporaryName(file);
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(tmp, 'wx');
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

export function writeFileAtomicSync(file: string, data: Uint8Array | string): void {
  const tmp = temporaryName(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates `file` with `data` only if it does not exist yet, atomically: the content is written to a
 * temporary and hard-linked into place (link fails with EEXIST when another process won the race;
 * it is atomic on local file systems and on NFS, unlike O_EXCL on old NFS clients). Returns false
 * when the file already existed.
 */
export async function createFileExclusive(file: string, data: string): Promise<boolean> {
  const tmp = temporaryName(file);
  await fs.promises.writeFile(tmp, data);
  try {
    await fs.promises.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}
