// Writing trees atomically: build in a private temporary sibling, then swap with
// rename. Temporary paths are 0700, tracked (removed on SIGINT/SIGTERM) and
// removed on every error; file-system failures become HostErrors.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { fsError } from './fs-errors.js';
import { removeTemp, trackTemp, untrackTemp } from './temp-cleanup.js';

export interface TreeFile {
  path: string; // relative
  content: string | Uint8Array;
  mode: number;
}

/**
 * Replaces `dir` with exactly `files`. Until the final rename nothing in `dir`
 * changes; `keep(relPath)` names files of the old tree to carry over (e.g. image
 * archives). The caller has checked that `dir` may be replaced (output-dir.ts).
 */
export function replaceTree(dir: string, files: TreeFile[], keep: string[] = []): void {
  // Regenerating an unchanged cluster rewrites nothing: tens of thousands of files
  // written and the old tree's removed cost far more than reading them back.
  if (sameTree(dir, files, keep)) return;
  const parent = dirname(dir);
  let tmp: string | undefined;
  let created = false;
  let step = `cannot create ${parent}`;
  try {
    mkdirSync(parent, { recursive: true });
    step = `cannot create a temporary folder in ${parent}`;
    // Registered before it exists: a signal from here on removes it. A random name
    // nobody could have prepared; mkdir fails rather than reuse an existing path.
    tmp = join(parent, `.${basename(dir)}.tmp-${randomBytes(6).toString('hex')}`);
    trackTemp(tmp);
    mkdirSync(tmp, { mode: 0o700 });
    created = true;
    step = `cannot write into ${tmp}`;
    // Thousands of nodes mean tens of thousands of files: one mkdir per folder, and a
    // chmod only where the umask changed the mode (it must not loosen or tighten key modes).
    const made = new Set<string>([tmp]);
    const umask = currentUmask();
    for (const f of files) {
      const target = join(tmp, f.path);
      const folder = dirname(target);
      if (!made.has(folder)) {
        mkdirSync(folder, { recursive: true, mode: 0o755 });
        made.add(folder);
      }
      writeFileSync(target, f.content, { mode: f.mode });
      if (umask === undefined || (f.mode & ~umask) !== f.mode) chmodSync(target, f.mode);
    }
    step = `cannot carry files over from ${dir}`;
    for (const rel of keep) {
      const from = join(dir, rel);
      if (existsSync(from) && !existsSync(join(tmp, rel))) {
        mkdirSync(dirname(join(tmp, rel)), { recursive: true });
        renameSync(from, join(tmp, rel));
      }
    }
  } catch (e) {
    if (tmp && created) {
      // Put carried-over files back before giving up.
      for (const rel of keep) if (existsSync(join(tmp, rel)) && !existsSync(join(dir, rel))) renameSync(join(tmp, rel), join(dir, rel));
      removeTemp(tmp);
    } else if (tmp) {
      untrackTemp(tmp);
    }
    throw fsError(e, step);
  }
  swapIn(tmp, dir);
}

/**
 * Whether `dir` already is exactly what replaceTree would make of `files`: the same
 * bytes and modes, folders with the modes replaceTree gives them, nothing else
 * (but the `keep` paths, which replaceTree carries over). Any doubt answers false.
 */
function sameTree(dir: string, files: TreeFile[], keep: string[]): boolean {
  const umask = currentUmask();
  if (umask === undefined) return false;
  try {
    const root = lstatSync(dir);
    if (!root.isDirectory() || (root.mode & 0o7777) !== 0o700) return false;
    // Every folder's expected entries; keep paths (and the folders leading to them) may be there or not.
    const entries = new Map<string, Set<string>>([['', new Set()]]);
    const optional = new Set<string>();
    const addPath = (rel: string) => {
      let at = '';
      for (const part of rel.split('/')) {
        const next = at === '' ? part : `${at}/${part}`;
        entries.get(at)!.add(next);
        if (!entries.has(next)) entries.set(next, new Set());
        at = next;
      }
      entries.delete(rel); // a file, not a folder
    };
    for (const f of files) {
      if (f.path.includes('\\') || f.path.split('/').some((p) => p === '' || p === '.' || p === '..')) return false;
      addPath(f.path);
    }
    for (const k of keep) {
      const parts = k.split(sep);
      for (let i = 1; i <= parts.length; i++) optional.add(parts.slice(0, i).join('/'));
    }
    for (const [folder, names] of entries) {
      if (folder !== '') {
        const st = lstatSync(join(dir, folder));
        if (!st.isDirectory() || (st.mode & 0o7777) !== (0o755 & ~umask)) return false;
      }
      for (const name of readdirSync(join(dir, folder))) {
        const rel = folder === '' ? name : `${folder}/${name}`;
        if (!names.has(rel) && !optional.has(rel)) return false;
      }
    }
    for (const f of files) {
      const path = join(dir, f.path);
      const st = lstatSync(path);
      const want = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
      if (!st.isFile() || (st.mode & 0o7777) !== f.mode || st.size !== want.byteLength) return false;
      if (!readFileSync(path).equals(want)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** The process umask; undefined where it cannot be read (worker threads). */
function currentUmask(): number | undefined {
  try {
    return process.umask();
  } catch {
    return undefined;
  }
}

/** Puts the finished `tmp` in the place of `dir`; the old tree is removed only once the new one is there. */
function swapIn(tmp: string, dir: string): void {
  const old = `${tmp}.old`;
  const hadOld = existsSync(dir);
  try {
    if (hadOld) renameSync(dir, old);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (hadOld) renameSync(old, dir);
      throw e;
    }
  } catch (e) {
    removeTemp(tmp);
    throw fsError(e, `cannot replace ${dir}`);
  }
  untrackTemp(tmp);
  if (hadOld) rmSync(old, { recursive: true, force: true });
}

/** Writes one file atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  trackTemp(tmp);
  try {
    mkdirSync(dirname(path), { recursive: true });
    // flag wx: never write through a file or link someone left at the temporary name
    rmSync(tmp, { force: true });
    writeFileSync(tmp, content, { mode, flag: 'wx' });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
    untrackTemp(tmp);
  } catch (e) {
    removeTemp(tmp);
    throw fsError(e, `cannot write ${path}`);
  }
}
