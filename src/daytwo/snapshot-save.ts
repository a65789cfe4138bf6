// etcd snapshot save: a consistent snapshot from the first healthy member (etcdctl in a
// one-shot of the etcd image, with the client certificate), checked with etcdutl,
// copied into the state folder with its sha256, the cluster.yaml and the keys.
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ClusterError } from '../errors.js';
import type { LocalCluster } from '../pipeline/local.js';
import type { Reporter } from '../pipeline/progress.js';
import { snapshotFile } from '../plan/etcd-ops.js';
import type { ClusterPlan } from '../plan/types.js';
import { fsError } from '../runtime/fs-errors.js';
import type { NodeAccess } from '../runtime/node-access.js';
import { SNAPSHOT_DB, SnapshotStore, clusterIdentity, type SnapshotManifest } from '../runtime/snapshots.js';
import { endpointStatus, etcdctl, prepareWork, readSingleFile, removeWork, snapshotStatus } from './etcd-node.js';
import type { NodeConnector } from './nodes.js';

/** A name that sorts by time: <cluster>-20261127t0650z12 (+ random tail against same-second clashes). */
export function defaultSnapshotName(cluster: string, now: Date): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
  return `${cluster}-${t}`;
}

/** Copies the work folder's snapshot.db off the node into `outDir`, hashing it on the way. */
export async function copyOff(node: NodeAccess, workDir: string, outDir: string, reporter: Reporter): Promise<{ sha256: string; size: number }> {
  const file = join(outDir, SNAPSHOT_DB);
  const hash = createHash('sha256');
  let size = 0;
  await reporter.step(`Copying the snapshot off ${node.node}`, async (update) => {
    const sink = createWriteStream(file, { mode: 0o600 });
    const counting = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        size += chunk.length;
        update(`${(size / 1048576).toFixed(1)} MiB`);
        cb(null, chunk);
      },
    });
    const done = pipeline(counting, sink).catch((e) => {
      throw fsError(e, `cannot write ${file}`);
    });
    await readSingleFile(await node.getTar(`${workDir}/snapshot.db`), 'snapshot.db', counting);
    await done;
  });
  return { sha256: hash.digest('hex'), size };
}

export interface SavedSnapshot {
  manifest: SnapshotManifest;
  path: string;
  seconds: number;
}

export async function saveSnapshot(cluster: LocalCluster, plan: ClusterPlan, connect: NodeConnector, reporter: Reporter, name?: string): Promise<SavedSnapshot> {
  const started = Date.now();
  const store = new SnapshotStore(cluster.state);
  const snapName = name ?? defaultSnapshotName(plan.cluster, new Date());
  const identity = clusterIdentity(plan.cluster, cluster.state);
  const out = store.begin(snapName);
  const id = `save-${process.pid}-${Date.now()}`;
  const failures: string[] = [];
  try {
    for (const member of plan.etcd.members) {
      const node = await connect(member.name);
      let dir: string | undefined;
      try {
        dir = await prepareWork(node, plan, cluster.state, id);
        const workDir = dir;
        const status = await reporter.step(`etcd on ${member.name}: endpoint status`, () => endpointStatus(node, plan, workDir, member));
        await reporter.step(`etcdctl snapshot save on ${member.name}`, () => etcdctl(node, plan, workDir, member, ['snapshot', 'save', snapshotFile], 'etcdctl snapshot save'));
        const etcd = await reporter.step('etcdutl snapshot status', () => snapshotStatus(node, plan, workDir));
        const copied = await copyOff(node, workDir, out.dir, reporter);
        const manifest: SnapshotManifest = {
          name: snapName,
          cluster: plan.cluster,
          identity,
          createdAt: new Date().toISOString(),
          kubernetesVersion: plan.versions.kubernetes,
          etcdVersion: status.version,
          member: member.name,
          ...copied,
          etcd: { revision: etcd.revision, totalKey: etcd.totalKey, hash: etcd.hash, clusterId: status.clusterId },
          keys: [],
        };
        out.commit(manifest, readFileSync(cluster.configPath, 'utf8'));
        return { manifest, path: store.path(snapName), seconds: (Date.now() - started) / 1000 };
      } catch (e) {
        if (!(e instanceof ClusterError)) throw e;
        failures.push(`${member.name}: ${e.message}`);
        reporter.warn(`no snapshot from ${member.name}: ${e.message.split('\n')[0]}`);
      } finally {
        if (dir) await removeWork(node, dir);
      }
    }
    throw new ClusterError(`no etcd member gave a snapshot:\n${failures.join('\n')}`, 'check etcd with `k8s-img status`');
  } catch (e) {
    out.abort();
    throw e;
  }
}
