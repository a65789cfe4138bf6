// Writing trees atomically: build in a private temporary sibling, then swap with
// rename. Temporary paths are 0700, tracked (removed on SIGINT/SIGTERM) and
// removed on every error; file-system failures become HostErrors.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { fsError } from './fs-errors.js';
import { removeTemp, trackTemp, untrackTemp } from './temp-cleanup.js';
import { recordStamps, stampsHold, treeDigest, type Seen, type StampStore } from './tree-stamps.js';

export interface TreeFile {
  path: string; // relative
  content: string | Uint8Array;
  mode: number;
}

/**
 * Replaces `dir` with exactly `files`. Until the final rename nothing in `dir`
 * changes; `keep(relPath)` names files of the old tree to carry over (e.g. image
 * archives). The caller has checked that `dir` may be replaced (output-dir.ts).
 * `stamps`: where to keep what an unchanged tree looked like (tree-stamps.ts).
 * Returns whether it wrote anything.
 */
export function replaceTree(dir: string, files: TreeFile[], keep: string[] = [], stamps?: StampStore): boolean {
  // Regenerating an unchanged cluster rewrites nothing: tens of thousands of files
  // written and the old tree's removed cost far more than reading them back.
  if (unchanged(dir, files, keep, stamps)) return false;
  stamps?.save(''); // they describe the tree about to be replaced
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
  return true;
}

/** Whether `dir` is already what replaceTree would make of `files`: by its stamps when they hold, else by reading it back. */
function unchanged(dir: string, files: TreeFile[], keep: string[], stamps: StampStore | undefined): boolean {
  const umask = currentUmask();
  if (umask === undefined) return false;
  const digest = stamps ? treeDigest(dir, files, keep, umask) : undefined;
  if (stamps && digest !== undefined && stampsHold(dir, stamps, digest)) return true;
  const seen: Seen[] | undefined = stamps ? [] : undefined;
  const checkedAt = stamps?.now() ?? 0; // before the check: what changes during it is never stamped
  if (!sameTree(dir, files, keep, umask, seen)) return false;
  if (stamps && digest !== undefined) recordStamps(stamps, digest, seen!, checkedAt);
  return true;
}

/**
 * Whether `dir` already is exactly what replaceTree would make of `files`: the same
 * bytes and modes, folders with the modes replaceTree gives them, nothing else
 * (but the `keep` paths, which replaceTree carries over). Any doubt answers false.
 * At 1 000 nodes that is ~25 000 files in ~15 000 folders, so each costs as few
 * system calls as it can: a folder one lstat and one listing (whose entry types say
 * which names are regular files), a file open, fstat, read and close — never opened
 * unless its folder lists it as a regular file, so no FIFO or device is ever opened.
 */
function sameTree(dir: string, files: TreeFile[], keep: string[], umask: number, seen?: Seen[]): boolean {
  try {
    const root = lstatSync(dir);
    if (!root.isDirectory() || (root.mode & 0o7777) !== 0o700) return false;
    seen?.push(['', root]);
    // Each folder's expected entries: a name maps to its file, or to null for a folder.
    // (Plain loops and string paths: at this size path.join and iterators show in the profile.)
    const folders = new Map<string, Map<string, TreeFile | null>>([['', new Map()]]);
    const order = [''];
    const folder = (rel: string): Map<string, TreeFile | null> | undefined => {
      let entries = folders.get(rel);
      if (entries) return entries;
      const slash = rel.lastIndexOf('/');
      const parent = folder(slash < 0 ? '' : rel.slice(0, slash));
      const name = rel.slice(slash + 1);
      if (!parent || parent.has(name)) return undefined; // a file where a folder is wanted
      parent.set(name, null);
      folders.set(rel, (entries = new Map()));
      order.push(rel);
      return entries;
    };
    for (let i = 0; i < files.length; i++) {
      const path = files[i]!.path;
      if (/\\|(?:^|\/)\.{0,2}(?:\/|$)/.test(path)) return false; // an empty, "." or ".." part
      const slash = path.lastIndexOf('/');
      const entries = folder(slash < 0 ? '' : path.slice(0, slash));
      const name = path.slice(slash + 1);
      if (!entries || entries.has(name)) return false; // listed twice, or also a folder
      entries.set(name, files[i]!);
    }
    // keep paths, and the folders leading to them, may be there or not
    const optional = new Set<string>();
    for (const k of keep) {
      const parts = k.split(sep);
      for (let i = 1; i <= parts.length; i++) optional.add(parts.slice(0, i).join('/'));
    }
    const dirMode = 0o755 & ~umask;
    for (let i = 0; i < order.length; i++) {
      const rel = order[i]!;
      const entries = folders.get(rel)!;
      const path = rel === '' ? dir : `${dir}/${rel}`;
      if (rel !== '') {
        const st = lstatSync(path);
        if (!st.isDirectory() || (st.mode & 0o7777) !== dirMode) return false;
        seen?.push([rel, st]);
      }
      const listed = readdirSync(path, { withFileTypes: true });
      let found = 0;
      for (let j = 0; j < listed.length; j++) {
        const e = listed[j]!;
        const want = entries.get(e.name);
        if (want === undefined) {
          if (optional.has(rel === '' ? e.name : `${rel}/${e.name}`)) continue;
          return false;
        }
        if (want === null ? !e.isDirectory() : !e.isFile()) return false;
        found++;
      }
      if (found !== entries.size) return false;
    }
    const scratch = new Scratch();
    for (let i = 0; i < files.length; i++) {
      const st = sameFile(`${dir}/${files[i]!.path}`, files[i]!, scratch);
      if (!st) return false;
      seen?.push([files[i]!.path, st]);
    }
    return true;
  } catch {
    return false;
  }
}

/** Two reusable buffers, so comparing ~25 000 files allocates next to nothing. */
class Scratch {
  disk: Buffer = Buffer.allocUnsafe(64 * 1024);
  want: Buffer = Buffer.allocUnsafe(64 * 1024);
  static fit(b: Buffer, n: number): Buffer {
    return b.length >= n ? b : Buffer.allocUnsafe(Math.max(n, b.length * 2));
  }
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The regular file at `path`'s stat when it holds exactly `f`'s bytes with `f`'s mode, else undefined. */
function sameFile(path: string, f: TreeFile, s: Scratch): Stats | undefined {
  let want: Buffer;
  let n: number;
  if (typeof f.content === 'string') {
    s.want = Scratch.fit(s.want, f.content.length * 3); // UTF-8 needs at most 3 bytes per UTF-16 unit
    n = s.want.write(f.content);
    want = s.want;
  } else {
    want = Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength);
    n = want.length;
  }
  const fd = openSync(path, READ_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || (st.mode & 0o7777) !== f.mode || st.size !== n) return undefined;
    // One read of n + 1 bytes: n back means the whole file (one more: it grew meanwhile).
    s.disk = Scratch.fit(s.disk, n + 1);
    let got = readSync(fd, s.disk, 0, n + 1, null);
    for (let r = got; got < n && r > 0; got += r) r = readSync(fd, s.disk, got, n + 1 - got, null);
    return got === n && s.disk.compare(want, 0, n, 0, n) === 0 ? st : undefined;
  } finally {
    closeSync(fd);
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
