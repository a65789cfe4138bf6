// File-system failures in the user's words: a HostError (exit 3) naming what we
// were doing and where, with a hint; the original error stays as `cause`.
import { lstatSync, type Stats } from 'node:fs';
import { HostError } from '../errors.js';

const REASONS: Record<string, [string, string]> = {
  EACCES: ['permission denied', 'run as a user who may write there, or choose another folder'],
  EPERM: ['operation not permitted', 'the file or folder may be immutable (lsattr) or owned by another user'],
  EROFS: ['the file system is read-only', 'choose a folder on a writable file system'],
  ENOSPC: ['no space left on the device', 'free some space (df -h) and run again'],
  EDQUOT: ['disk quota exceeded', 'free some space and run again'],
  ENOENT: ['a folder on the way does not exist', 'check the path (a dangling symbolic link?)'],
  ENOTDIR: ['a part of the path is a file, not a folder', 'check the path'],
  EISDIR: ['it is a folder', 'name a file'],
  ELOOP: ['too many symbolic links (a loop?)', 'check the symbolic links on the path'],
  ENAMETOOLONG: ['the path is too long', 'choose a shorter path'],
  EBUSY: ['the file or folder is busy (a mount point?)', 'choose another folder'],
  EXDEV: ['it crosses file systems', 'keep the folder on one file system'],
  EMFILE: ['too many open files', 'raise the limit (ulimit -n) and run again'],
  EIO: ['an input/output error', 'check the disk (dmesg)'],
  EINVAL: ['the file system does not support this', 'choose a folder on a normal disk file system'],
};

export function isErrnoError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** `action` says what failed, e.g. "cannot write out/sm1/compose.yaml". */
export function fsError(e: unknown, action: string): HostError {
  if (e instanceof HostError) return e;
  const code = isErrnoError(e) ? e.code! : undefined;
  const [reason, hint] = (code && REASONS[code]) ?? [code ?? (e instanceof Error ? e.message : String(e)), 'check the path, its permissions and the disk'];
  return new HostError(`${action}: ${reason}`, hint, { cause: e });
}

/** Runs `fn`; a file-system failure becomes a HostError saying `action`. */
export function withFsErrors<T>(action: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isErrnoError(e)) throw fsError(e, action);
    throw e;
  }
}

/** lstat, or undefined when nothing is there; other failures are HostErrors. */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(e, `cannot look at ${path}`);
  }
}
