// Reading a user's input file (cluster.yaml, config.properties) safely: it must
// be a regular file below a size limit, checked with stat before it is opened,
// and opened so that a FIFO swapped in after the check cannot block us.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { ConfigError, HostError } from '../errors.js';

export const MAX_INPUT_BYTES = 1024 * 1024;

/** What the file is, in words, for a message. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function refuse(path: string, message: string, hint: string): never {
  throw new ConfigError([{ path, message, hint, severity: 'error' }], path);
}

/** A regular file that exists (large inputs such as image archives are then streamed). */
export function statInputFile(path: string, what: { hint: string }): Stats {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') refuse(path, 'file not found', what.hint);
    if (code === 'ELOOP') refuse(path, 'is a symbolic link loop', 'point it at a real file');
    throw new HostError(`cannot read ${path}: ${code ?? (e as Error).message}`, 'check the file\'s permissions', { cause: e });
  }
  if (!st.isFile()) refuse(path, `is ${kindOf(st)}, not a file`, what.hint);
  return st;
}

/**
 * The file's text. Missing, not a regular file, too large or not UTF-8: ConfigError
 * (exit 2) naming the file. Unreadable (permissions, I/O): HostError (exit 3).
 */
export function readInputFile(path: string, what: { hint: string; limit?: number }): string {
  const limit = what.limit ?? MAX_INPUT_BYTES;
  const st = statInputFile(path, what);
  if (st.size > limit) refuse(path, `is ${st.size} bytes; input files may be at most ${limit} bytes`, 'pass the right file: a cluster configuration is a few kilobytes');

  let fd: number;
  try {
    // O_NONBLOCK: if the path was swapped for a FIFO since stat, open does not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new HostError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the file\'s permissions', { cause: e });
  }
  try {
    if (!fstatSync(fd).isFile()) refuse(path, 'changed into something that is not a file while being read', what.hint);
    // Read at most limit + 1 bytes: a file that grows (or lies about its size) stays bounded.
    const buf = Buffer.alloc(limit + 1);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buf, size, buf.length - size, null);
      if (n === 0) break;
      size += n;
      if (size > limit) refuse(path, `is larger than ${limit} bytes`, 'pass the right file: a cluster configuration is a few kilobytes');
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, size));
    } catch {
      return refuse(path, 'is not UTF-8 text', 'save it as UTF-8 text');
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new HostError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the file and the disk', { cause: e });
  } finally {
    closeSync(fd);
  }
}
