// The binary cache: <cache>/bin/<group>/<version>/<source>/, outside the repository,
// filled atomically (staging folder, then rename) with a manifest of checksums.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BinaryInfo {
  path: string;
  sha256: string;
  size: number;
  /** The manifest's details (upstream, the source's checksum, the build machine's packages). */
  details?: Record<string, string>;
}

export interface GroupManifest {
  group: string;
  version: string;
  source: string;
  binaries: Partial<Record<string, { sha256: string; size: number }>>;
  details: Record<string, string>;
}

export async function sha256File(path: string, algorithm: 'sha256' | 'sha512' = 'sha256'): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class BinaryCache {
  constructor(readonly root: string) {}

  dir(group: string, version: string, source: string): string {
    return join(this.root, 'bin', group, version, source);
  }

  /** The cached binaries if the manifest is there and every file has its recorded size. */
  lookup(group: string, version: string, source: string): Record<string, BinaryInfo> | undefined {
    const dir = this.dir(group, version, source);
    const manifestPath = join(dir, 'manifest.json');
    if (!existsSync(manifestPath)) return undefined;
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as GroupManifest;
    const out: Record<string, BinaryInfo> = {};
    for (const [name, info] of Object.entries(m.binaries)) {
      const p = join(dir, name);
      if (!info || !existsSync(p) || statSync(p).size !== info.size) return undefined;
      out[name] = { path: p, ...info, details: m.details };
    }
    return out;
  }

  /** A fresh, empty staging folder for one entry. */
  staging(group: string, version: string, source: string): string {
    const dir = `${this.dir(group, version, source)}.staging-${process.pid}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Checksums the staged binaries, writes the manifest and moves the entry into place. */
  async commit(staging: string, m: Omit<GroupManifest, 'binaries'>, names: readonly string[]): Promise<Record<string, BinaryInfo>> {
    const binaries: GroupManifest['binaries'] = {};
    for (const n of names) {
      const p = join(staging, n);
      if (!existsSync(p)) throw new Error(`expected binary ${n} was not produced`);
      binaries[n] = { sha256: await sha256File(p), size: statSync(p).size };
    }
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify({ ...m, binaries }, null, 2)}\n`);
    const final = this.dir(m.group, m.version, m.source);
    rmSync(final, { recursive: true, force: true });
    renameSync(staging, final);
    return this.lookup(m.group, m.version, m.source)!;
  }

  discard(staging: string): void {
    rmSync(staging, { recursive: true, force: true });
  }
}
