// Copies a node bundle onto a node, sending only what changed. The node keeps a
// manifest of what it holds (path → digest and mode), written last; files whose
// digest differs are sent, files no longer in the bundle are removed. Blobs of the
// registry storage are named by their digest, so they are never read to compare.
// The bundle folder is updated in place, never replaced: running services
// bind-mount its subfolders.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { HostError } from '../errors.js';

export const MANIFEST = '.k8s-img-bundle.json';
/** Archives that are loaded from where they are, never copied into the bundle folder. */
const NOT_SYNCED = /^images\.(tar|sha256|txt)$/;
const BLOB = /(?:^|\/)blobs\/sha256\/[0-9a-f]{2}\/([0-9a-f]{64})\/data$/;

export type BundleManifest = Record<string, { digest: string; mode: number; size: number }>;

/** What a node must offer to receive a bundle: a command runner and a tar receiver. */
export interface BundleTarget {
  /** Runs argv on the node; `dir` is the working directory. */
  exec(argv: string[], dir?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Unpacks a tar stream into `dir` on the node. */
  putTar(tar: NodeJS.ReadableStream, dir: string): Promise<void>;
}

export function bundleManifest(dir: string): BundleManifest {
  const out: BundleManifest = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !NOT_SYNCED.test(rel) && rel !== MANIFEST) {
        const st = statSync(p);
        const blob = BLOB.exec(rel);
        out[rel] = { digest: blob ? `sha256:${blob[1]}` : `sha256:${createHash('sha256').update(readFileSync(p)).digest('hex')}`, mode: st.mode & 0o777, size: st.size };
      }
    }
  };
  walk(dir);
  return out;
}

export interface SyncResult {
  sent: number;
  bytes: number;
  removed: number;
}

export async function syncBundle(target: BundleTarget, localDir: string, remoteDir: string): Promise<SyncResult> {
  const local = bundleManifest(localDir);
  const prep = await target.exec(['mkdir', '-p', remoteDir]);
  if (prep.code !== 0) throw new HostError(`cannot create ${remoteDir}: ${prep.stderr.trim()}`, 'is the node\'s disk full or read-only?');
  const remote = await remoteManifest(target, remoteDir);
  const send = Object.keys(local).filter((p) => {
    const r = remote[p];
    return !r || r.digest !== local[p]!.digest || r.mode !== local[p]!.mode;
  });
  const gone = Object.keys(remote).filter((p) => !(p in local));

  let bytes = 0;
  if (send.length > 0) {
    const pack = tar.pack();
    const stream = new PassThrough();
    pack.pipe(stream);
    const put = target.putTar(stream, remoteDir);
    for (const rel of send) {
      const { size, mode } = local[rel]!;
      bytes += size;
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: rel, size, mode, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
        createReadStream(join(localDir, rel)).on('error', reject).pipe(entry);
      });
    }
    pack.finalize();
    await put;
  }
  if (gone.length > 0) {
    const rm = await target.exec(['sh', '-c', 'printf "%s\\0" "$@" | xargs -0 rm -f --', 'rm', ...gone], remoteDir);
    if (rm.code !== 0) throw new HostError(`cannot remove old bundle files in ${remoteDir}: ${rm.stderr.trim()}`, 'check the node\'s disk');
  }
  // Nothing changed: the node's manifest is already right, and nothing travels.
  if (send.length === 0 && gone.length === 0) return { sent: 0, bytes: 0, removed: 0 };
  // The manifest goes last: an interrupted sync is redone next time.
  const pack = tar.pack();
  const stream = new PassThrough();
  pack.pipe(stream);
  const put = target.putTar(stream, remoteDir);
  pack.entry({ name: MANIFEST, mode: 0o600, mtime: new Date(0) }, JSON.stringify(local));
  pack.finalize();
  await put;
  return { sent: send.length, bytes, removed: gone.length };
}

/** The node's manifest; without one (first sync, older k8s-img), every file on it is listed as unknown. */
async function remoteManifest(target: BundleTarget, dir: string): Promise<BundleManifest> {
  const r = await target.exec(['cat', MANIFEST], dir);
  if (r.code === 0) {
    try {
      return JSON.parse(r.stdout) as BundleManifest;
    } catch {
      /* fall through: treat as unknown */
    }
  }
  const list = await target.exec(['find', '.', '-type', 'f', '!', '-name', MANIFEST], dir);
  const out: BundleManifest = {};
  for (const l of list.stdout.split('\n').filter(Boolean)) {
    const rel = l.replace(/^\.\//, '');
    if (!NOT_SYNCED.test(rel)) out[rel] = { digest: 'unknown', mode: 0, size: 0 };
  }
  return out;
}
