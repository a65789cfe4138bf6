// Writes the cluster registry's storage from the blob store: link files as files,
// blobs as hard links (no copies), into a temporary sibling that then replaces `dir`.
import { copyFileSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RegistryFile } from '../render/registry-tree.js';
import type { BlobStore } from './oci-export.js';

export function writeRegistryStorage(dir: string, files: RegistryFile[], store: BlobStore): void {
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
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
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}
