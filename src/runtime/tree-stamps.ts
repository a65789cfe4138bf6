// Stamps of a tree replaceTree found unchanged, so that the next check can trust
// them instead of reading every file back (git's index does the same for a work
// tree). At 1 000 nodes a bundle tree is ~26 000 files in ~14 000 folders: reading
// it back took ~0.45 s, one lstat per entry takes ~0.1 s.
//
// Why a matching stamp means an unchanged entry: writing a file, changing its mode,
// or adding, removing or renaming an entry of a folder sets the entry's ctime to
// the current time, which no user-level call can set back; a replaced entry has
// another inode. Entries changed less than RACY_MS before their check are never
// stamped, so a change right after the check cannot share its ctime (the kernel's
// clock has coarse ticks). The digest covers everything the check compared with:
// the folder, each file's path, mode and bytes, the paths kept, the umask.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { writeFileAtomic } from './files.js';

/** Where the stamps live (generate: a file in the state folder) and the clock they are judged by. */
export interface StampStore {
  load(): string | undefined;
  save(text: string): void;
  now(): number; // ms since the epoch
}

/** An entry as the full check saw it: its path relative to the tree ('' the tree itself) and its stat. */
export type Seen = [path: string, stat: Stats];

/**
 * Stamps in the file at `path`. They only ever save work: a file that is not there, not
 * a regular file (never followed or opened if a link, FIFO or device) or unreadable
 * reads as none, and one that cannot be written is left as it is.
 */
export function fileStampStore(path: string, now: () => number = Date.now): StampStore {
  return {
    load() {
      let fd: number | undefined;
      try {
        fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        const st = fstatSync(fd);
        return st.isFile() && st.size <= MAX_FILE ? readFileSync(fd, 'utf8') : undefined;
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
    save(text) {
      // Best effort: stamps that could not be replaced still vouch only for a tree whose
      // every entry is as stamped (a replaced tree has a new root inode, at least).
      try {
        writeFileAtomic(path, text, 0o600);
      } catch {
        // not saved: the next run reads the folder back
      }
    },
    now,
  };
}

/** ~90 bytes per entry: room for ~700 000. */
const MAX_FILE = 64 << 20;
const HEADER = 'k8s-img tree stamps 1';
export const RACY_MS = 2_000;

interface Digestible {
  path: string;
  content: string | Uint8Array;
  mode: number;
}

/** What the stamps vouch for: the wanted tree at `dir`. Undefined for paths a stamps file cannot hold. */
export function treeDigest(dir: string, files: Digestible[], keep: string[], umask: number): string | undefined {
  const h = createHash('sha256');
  h.update(`${dir}\0${umask}\0${keep.join('\0')}\0\0`);
  for (const f of files) {
    if (f.path.includes('\n')) return undefined;
    h.update(`${f.path}\0${f.mode}\0${f.content.length}\0`);
    h.update(f.content);
    h.update('\0');
  }
  return h.digest('hex');
}

const line = (path: string, s: Stats) => `${s.dev} ${s.ino} ${s.mode} ${s.size} ${s.mtimeMs} ${s.ctimeMs} ${path}`;

/**
 * Saves the stamps of `seen` (every entry the full check compared, which found them as
 * wanted) when none changed within RACY_MS of `checkedAt` (taken before the check);
 * otherwise removes the old ones, which no longer describe the tree.
 */
export function recordStamps(store: StampStore, digest: string, seen: Seen[], checkedAt: number): void {
  const lines = [HEADER, digest];
  for (const [path, st] of seen) {
    if (st.ctimeMs >= checkedAt - RACY_MS || path.includes('\n')) {
      store.save('');
      return;
    }
    lines.push(line(path, st));
  }
  store.save(`${lines.join('\n')}\n`);
}

/** Whether the stored stamps are for `digest` and every stamped entry under `dir` still has its stamp. */
export function stampsHold(dir: string, store: StampStore, digest: string): boolean {
  const text = store.load();
  if (!text?.startsWith(`${HEADER}\n${digest}\n`)) return false;
  const lines = text.split('\n');
  if (lines.pop() !== '' || lines.length < 3) return false;
  try {
    for (let i = 2; i < lines.length; i++) {
      const l = lines[i]!;
      // six numbers, then the path (the rest of the line; empty for the tree itself)
      let at = 0;
      for (let k = 0; k < 6; k++) {
        at = l.indexOf(' ', at) + 1;
        if (at === 0) return false;
      }
      const path = l.slice(at);
      const st = lstatSync(path === '' ? dir : `${dir}/${path}`);
      if (line(path, st) !== l) return false;
    }
    return true;
  } catch {
    return false; // gone, or unreadable: the full check decides
  }
}
