/**
 * Reading a folder of documents someone else may control (a docs folder, an FAQ): the one set of rules every
 * indexer uses. Only regular files inside the folder are read: symbolic links are never followed (a `passwd.md`
 * link to /etc/passwd is skipped, and so is a linked folder), FIFOs, sockets and devices are skipped (a FIFO named
 * `x.md` cannot hang the walk), hidden files are left out, and each file is opened without following links and
 * checked again after opening, so a file swapped for a link or a FIFO between listing and reading is refused.
 * A file that cannot be read is an error for that file only; the caller skips it and goes on.
 */
import { constants } from 'node:fs';
import { open, readdir, readlink, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** The folder itself cannot be read. */
export class DocumentFolderError extends Error {
  override name = 'DocumentFolderError';
}

/** One file cannot be used (not a regular file, too big, binary, not UTF-8, unreadable); skip it. */
export class DocumentFileError extends Error {
  override name = 'DocumentFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/**
 * The regular, non-hidden files under `dir` (recursively, links not followed) whose name `accept` takes, as
 * absolute paths in sorted order.
 */
export async function listDocumentFiles(dir: string, accept: (name: string) => boolean): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    throw new DocumentFolderError(`cannot read docs folder ${dir}: ${(err as Error).message}`);
  }
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.') && accept(e.name))
    .map((e) => join(e.parentPath ?? dir, e.name))
    .sort();
}

export interface ReadDocumentOptions {
  /** Larger files are refused (default 2 MiB). */
  maxBytes?: number;
  /** The folder the file must be inside (checked on the opened file, after links in its path are resolved). */
  root?: string;
  /** The name used in errors (default the path). */
  name?: string;
}

/** Reads one listed file as UTF-8 text under the rules above; throws `DocumentFileError` for that file. */
export async function readDocumentText(file: string, opts: ReadDocumentOptions = {}): Promise<string> {
  const name = opts.name ?? file;
  const maxBytes = opts.maxBytes ?? 2 * 1024 * 1024;
  let handle: import('node:fs/promises').FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading does not wait for a writer.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DocumentFileError(
      name,
      code === 'ELOOP' ? 'is a symbolic link; links are not followed' : `cannot be read (${code ?? err})`,
    );
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new DocumentFileError(name, 'is not a regular file');
    if (opts.root !== undefined) await checkInside(handle.fd, opts.root, name);
    if (st.size > maxBytes) {
      throw new DocumentFileError(name, `${st.size} bytes is over the ${maxBytes}-byte limit; split it`);
    }
    const bytes = await handle.readFile();
    if (bytes.length > maxBytes) {
      throw new DocumentFileError(name, `${bytes.length} bytes is over the ${maxBytes}-byte limit; split it`);
    }
    if (bytes.includes(0)) throw new DocumentFileError(name, 'looks binary (contains NUL bytes)');
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new DocumentFileError(name, 'is not valid UTF-8; convert it to UTF-8');
    }
  } finally {
    await handle.close();
  }
}

/** The opened file is inside `root` (a folder in its path swapped for a link after listing is caught here). */
async function checkInside(fd: number, root: string, name: string): Promise<void> {
  let real: string;
  try {
    real = await readlink(`/proc/self/fd/${fd}`);
  } catch {
    return; // no /proc (not Linux): the listing rules still hold
  }
  const top = await realpath(root);
  if (real !== top && !real.startsWith(top.endsWith(sep) ? top : top + sep)) {
    throw new DocumentFileError(name, 'resolves outside the docs folder');
  }
}
