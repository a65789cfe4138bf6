// etcd snapshots in the state folder: <state>/snapshots/<name>/ holds snapshot.db, its
// sha256, the cluster.yaml, the keys a restore needs (CAs, service-account key, the
// Secrets encryption key: the snapshot's Secrets are unreadable without it) and a
// manifest naming the cluster it belongs to. Everything is 0600 in 0700 folders.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError, UsageError } from '../errors.js';
import { writeFileAtomic } from './files.js';
import { withFsErrors } from './fs-errors.js';
import type { StateDir } from './state.js';
import { removeTemp, trackTemp, untrackTemp } from './temp-cleanup.js';

export const SNAPSHOT_DB = 'snapshot.db';
export const MANIFEST = 'manifest.json';
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** State files a restore needs besides the snapshot (those the cluster has). */
export const KEY_FILES = ['ca.crt', 'ca.key', 'etcd-ca.crt', 'etcd-ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub', 'encryption.key'];

export interface SnapshotManifest {
  name: string;
  cluster: string;
  /** sha256 over the cluster name and its CA certificate (service-account key in simple mode). */
  identity: string;
  createdAt: string;
  kubernetesVersion: string;
  etcdVersion: string;
  /** The member it was taken from. */
  member: string;
  sha256: string;
  size: number;
  /** etcdutl snapshot status; clusterId is the live member's (absent for a periodic snapshot, read from its file alone). */
  etcd: { revision: number; totalKey: number; hash: number; clusterId?: string };
  keys: string[];
}

export function validSnapshotName(name: string): void {
  if (!NAME.test(name)) throw new UsageError(`snapshot name "${name}" is not allowed`, 'use 1-63 characters: lower-case letters, digits, ".", "_", "-" (starting with a letter or digit)');
}

/** Who the cluster is, as far as a snapshot can tell: its name and the CA everything trusts. */
export function clusterIdentity(cluster: string, state: StateDir): string {
  const anchor = state.read('ca.crt') ?? state.read('sa.pub');
  if (anchor === undefined) throw new ClusterError(`the state folder ${state.dir} has neither ca.crt nor sa.pub`, 'is this the folder of a cluster that was started? (k8s-img up)');
  return createHash('sha256').update(`${cluster}\n${anchor}`).digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class SnapshotStore {
  readonly dir: string;
  constructor(readonly state: StateDir) {
    this.dir = join(state.dir, 'snapshots');
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  list(): SnapshotManifest[] {
    if (!existsSync(this.dir)) return [];
    const out: SnapshotManifest[] = [];
    for (const e of withFsErrors(`cannot read ${this.dir}`, () => readdirSync(this.dir, { withFileTypes: true }))) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const m = this.manifestOrUndefined(e.name);
      if (m) out.push(m);
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
  }

  private manifestOrUndefined(name: string): SnapshotManifest | undefined {
    const p = join(this.path(name), MANIFEST);
    if (!existsSync(p)) return undefined;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as SnapshotManifest;
    } catch {
      return undefined;
    }
  }

  has(name: string): boolean {
    return this.manifestOrUndefined(name) !== undefined;
  }

  manifest(name: string): SnapshotManifest {
    validSnapshotName(name);
    const m = this.manifestOrUndefined(name);
    if (!m) {
      const have = this.list().map((s) => s.name);
      throw new UsageError(`no snapshot "${name}" in ${this.dir}`, have.length ? `snapshots: ${have.join(', ')}` : 'take one with `k8s-img etcd snapshot save`');
    }
    return m;
  }

  /**
   * A folder to fill, renamed into place by `commit` (nothing half-written is ever
   * listed); `abort` removes it.
   */
  begin(name: string): { dir: string; commit(m: SnapshotManifest, clusterYaml: string): void; abort(): void } {
    validSnapshotName(name);
    const final = this.path(name);
    if (existsSync(final)) throw new UsageError(`snapshot "${name}" exists already (${final})`, 'give another --name, or move that folder away');
    withFsErrors(`cannot create ${this.dir}`, () => mkdirSync(this.dir, { recursive: true, mode: 0o700 }));
    const tmp = join(this.dir, `.tmp-${name}-${randomBytes(4).toString('hex')}`);
    trackTemp(tmp);
    withFsErrors(`cannot create ${tmp}`, () => mkdirSync(tmp, { mode: 0o700 }));
    return {
      dir: tmp,
      commit: (m, clusterYaml) => {
        const keys = mkdirKeys(tmp);
        for (const k of KEY_FILES) {
          const v = this.state.read(k);
          if (v === undefined) continue;
          writeFileAtomic(join(keys, k), v, 0o600);
          m.keys.push(k);
        }
        writeFileAtomic(join(tmp, 'cluster.yaml'), clusterYaml, 0o600);
        writeFileAtomic(join(tmp, `${SNAPSHOT_DB}.sha256`), `${m.sha256}  ${SNAPSHOT_DB}\n`, 0o600);
        writeFileAtomic(join(tmp, MANIFEST), `${JSON.stringify(m, null, 2)}\n`, 0o600);
        withFsErrors(`cannot move ${tmp} to ${final}`, () => renameSync(tmp, final));
        untrackTemp(tmp);
      },
      abort: () => removeTemp(tmp),
    };
  }

  /** The snapshot file, its checksum verified against the manifest. */
  async verified(name: string): Promise<{ manifest: SnapshotManifest; file: string }> {
    const manifest = this.manifest(name);
    const file = join(this.path(name), SNAPSHOT_DB);
    if (!existsSync(file)) throw new ClusterError(`snapshot "${name}" has no ${SNAPSHOT_DB}`, `the folder ${this.path(name)} is incomplete: use another snapshot`);
    const size = statSync(file).size;
    const sum = await sha256File(file);
    if (sum !== manifest.sha256 || size !== manifest.size) {
      throw new ClusterError(
        `snapshot "${name}" is corrupted: sha256 ${sum} (${size} bytes), recorded ${manifest.sha256} (${manifest.size} bytes)`,
        'nothing was changed; restore another snapshot (k8s-img etcd snapshot list)',
      );
    }
    return { manifest, file };
  }
}

function mkdirKeys(dir: string): string {
  const keys = join(dir, 'keys');
  withFsErrors(`cannot create ${keys}`, () => mkdirSync(keys, { mode: 0o700 }));
  return keys;
}
