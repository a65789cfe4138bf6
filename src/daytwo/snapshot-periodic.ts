// Periodic snapshots (etcd.snapshots) live on the members, in ETCD_SNAPSHOTS: listed
// there, and fetched into the state folder as ordinary snapshots (sha256 checked
// against the member's, read through by etcdutl, with cluster.yaml and keys), so
// `restore` treats them like any other. Fetching needs no running etcd: it is what a
// restore after losing etcd starts from.
import { readFileSync } from 'node:fs';
import { ClusterError, UsageError } from '../errors.js';
import type { LocalCluster } from '../pipeline/local.js';
import type { Reporter } from '../pipeline/progress.js';
import { LIST_PERIODIC, fetchedName, parsePeriodicRef, periodicFile, periodicName } from '../plan/etcd-ops.js';
import type { ClusterPlan } from '../plan/types.js';
import { SnapshotStore, clusterIdentity, type SnapshotManifest } from '../runtime/snapshots.js';
import { must, prepareWork, removeWork, snapshotStatus } from './etcd-node.js';
import type { NodeConnector } from './nodes.js';
import { copyOff, type SavedSnapshot } from './snapshot-save.js';

export interface PeriodicSnapshot {
  /** `<node>:<name>`: what `restore` and `fetch` take. */
  ref: string;
  node: string;
  createdAt: string;
  kubernetesVersion: string;
  size: number;
  sha256: string;
}

/** Every member's periodic snapshots, oldest first; members that cannot be asked are named in `failed`. */
export async function listPeriodic(plan: ClusterPlan, connect: NodeConnector): Promise<{ found: PeriodicSnapshot[]; failed: string[] }> {
  const found: PeriodicSnapshot[] = [];
  const failed: string[] = [];
  for (const m of plan.etcd.members) {
    try {
      const out = await must(await connect(m.name), LIST_PERIODIC, 'listing the periodic snapshots');
      for (const line of out.trim().split('\n').filter(Boolean)) {
        const [file, size, sha256] = line.split(' ');
        const stem = file!.replace(/\.db$/, '');
        const meta = periodicName(stem);
        if (meta) found.push({ ref: `${m.name}:${stem}`, node: m.name, ...meta, size: Number(size), sha256: sha256 ?? '' });
      }
    } catch (e) {
      failed.push(`${m.name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { found: found.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.node < b.node ? -1 : 1)), failed };
}

/** Copies `<node>:<name>` into the state folder (as `name`, default `<node>-<name>`), checked on the way. */
export async function fetchPeriodic(cluster: LocalCluster, plan: ClusterPlan, connect: NodeConnector, reporter: Reporter, refText: string, name?: string): Promise<SavedSnapshot> {
  const started = Date.now();
  const ref = parsePeriodicRef(refText);
  if (!ref) throw new UsageError(`"${refText}" names no periodic snapshot`, 'give <node>:<name> as `k8s-img etcd snapshot list` shows it, e.g. sw1:20261127t065012z-v1.37.2');
  if (!plan.etcd.members.some((m) => m.name === ref.node)) throw new UsageError(`${ref.node} is not an etcd member of ${plan.cluster}`, `members: ${plan.etcd.members.map((m) => m.name).join(', ')}`);
  const meta = periodicName(ref.stem)!;
  const store = new SnapshotStore(cluster.state);
  const snapName = name ?? fetchedName(ref);
  const identity = clusterIdentity(plan.cluster, cluster.state);
  const out = store.begin(snapName);
  const node = await connect(ref.node);
  let dir: string | undefined;
  try {
    const file = periodicFile(ref.stem);
    const recorded = (await must(node, ['cat', `${file}.sha256`], `reading ${file}.sha256`)).split(' ')[0]!;
    dir = await prepareWork(node, plan, cluster.state, `fetch-${process.pid}-${Date.now()}`);
    const workDir = dir;
    await must(node, ['cp', file, `${workDir}/snapshot.db`], `copying ${file}`);
    // etcdutl reads the whole file: a damaged snapshot stops here, on the node.
    const etcd = await reporter.step(`etcdutl snapshot status of ${refText}`, () => snapshotStatus(node, plan, workDir));
    const copied = await copyOff(node, workDir, out.dir, reporter);
    if (copied.sha256 !== recorded) {
      throw new ClusterError(`${refText} is corrupted: sha256 ${copied.sha256}, its ${file}.sha256 says ${recorded}`, 'nothing was changed; use another snapshot (k8s-img etcd snapshot list)');
    }
    const manifest: SnapshotManifest = {
      name: snapName,
      cluster: plan.cluster,
      identity,
      createdAt: meta.createdAt,
      kubernetesVersion: meta.kubernetesVersion,
      etcdVersion: plan.versions.etcd,
      member: ref.node,
      ...copied,
      etcd: { revision: etcd.revision, totalKey: etcd.totalKey, hash: etcd.hash },
      keys: [],
    };
    out.commit(manifest, readFileSync(cluster.configPath, 'utf8'));
    return { manifest, path: store.path(snapName), seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    out.abort();
    throw e;
  } finally {
    if (dir) await removeWork(node, dir);
  }
}
