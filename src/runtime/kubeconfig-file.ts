// The user's kubeconfig file: $KUBECONFIG's first file or ~/.kube/config, edited the
// way kubectl does it — under kubectl's lock file (<file>.lock, created exclusively),
// written to a temporary file beside it and renamed over it, mode kept (0600 when new).
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { HostError } from '../errors.js';
import { fsError } from './fs-errors.js';
import { removeTemp, trackTemp, untrackTemp } from './temp-cleanup.js';

export function userKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p.trim() !== '');
  return first ?? join(env.HOME || homedir(), '.kube', 'config');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `edit` on the file's text ('' when absent) and writes what it returns; undefined
 * leaves the file as it is. Returns whether the file was written.
 */
export async function editKubeconfig(path: string, edit: (text: string) => string | undefined, waitMs = 10_000): Promise<boolean> {
  // A link (a dotfiles repository's ~/.kube/config) stays a link: its target is edited.
  const file = existsSync(path) ? realpathSync(path) : path;
  const lock = `${file}.lock`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw fsError(e, `cannot create ${dirname(file)}`);
  }
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, `cannot lock ${file}`);
      if (Date.now() > deadline) throw new HostError(`${lock} exists: another program is editing ${file}`, `if none is, remove ${lock}`);
      await sleep(100);
    }
  }
  trackTemp(lock);
  const tmp = `${file}.k8s-img-${process.pid}`;
  try {
    const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const after = edit(before);
    if (after === undefined || after === before) return false;
    const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
    trackTemp(tmp);
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeSync(fd, after);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, mode);
    renameSync(tmp, file);
    untrackTemp(tmp);
    return true;
  } catch (e) {
    removeTemp(tmp);
    if (e instanceof HostError) throw e;
    throw fsError(e, `cannot update ${file}`);
  } finally {
    rmSync(lock, { force: true });
    untrackTemp(lock);
  }
}
