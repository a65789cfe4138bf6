// Writing trees atomically: build in a temporary sibling, then swap with rename.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface TreeFile {
  path: string; // relative
  content: string | Uint8Array;
  mode: number;
}

/**
 * Replaces `dir` with exactly `files`. Until the final rename nothing in `dir`
 * changes; `keep(relPath)` names files of the old tree to carry over (e.g. image archives).
 */
export function replaceTree(dir: string, files: TreeFile[], keep: string[] = []): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}`);
  const old = join(parent, `.${basename(dir)}.old-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    for (const f of files) {
      const target = join(tmp, f.path);
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      writeFileSync(target, f.content, { mode: f.mode });
      chmodSync(target, f.mode); // the umask must not loosen or tighten key modes
    }
    for (const rel of keep) {
      const from = join(dir, rel);
      if (existsSync(from) && !existsSync(join(tmp, rel))) {
        mkdirSync(dirname(join(tmp, rel)), { recursive: true });
        renameSync(from, join(tmp, rel));
      }
    }
  } catch (e) {
    // Put carried-over files back before giving up.
    for (const rel of keep) if (existsSync(join(tmp, rel)) && !existsSync(join(dir, rel))) renameSync(join(tmp, rel), join(dir, rel));
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const hadOld = existsSync(dir);
  if (hadOld) renameSync(dir, old);
  renameSync(tmp, dir);
  if (hadOld) rmSync(old, { recursive: true, force: true });
}

/** Writes one file atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
