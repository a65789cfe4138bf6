// Writes the cluster registry's storage from the blob store: link files as files,
// blobs as hard links (no copies), into a temporary sibling that then replaces `dir`.
import { copyFileSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RegistryFile } from '../render/registry-tree.js';
import { withFsErrors } from './fs-errors.js';
import type { BlobStore } from './oci-export.js';
import { removeTemp, trackTemp, untrackTemp } from './temp-cleanup.js';

export function writeRegistryStorage(dir: string, files: RegistryFile[], store: BlobStore): void {
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}`);
  trackTemp(tmp);
  try {
    withFsErrors(`cannot write the registry storage in ${dirname(dir)}`, () => {
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { mode: 0o700 });
      for (const f of files) {
        const target = join(tmp, f.path);
        mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
        if ('content' in f) writeFileSync(target, f.content, { mode: 0o644 });
        else {
          try {
            linkSync(store.path(f.blob), target);
          } catch {
            copyFileSync(store.path(f.blob), target); // the store is on another file system
          }
        }
      }
      if (existsSync(dir)) renameSync(dir, old);
      renameSync(tmp, dir);
    });
    untrackTemp(tmp);
  } catch (e) {
    removeTemp(tmp);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}
