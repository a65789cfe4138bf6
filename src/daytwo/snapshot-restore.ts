// etcd snapshot restore, RKE1's way: every member restored from the same snapshot with
// the full initial cluster. The restores are written next to the live data while the
// cluster still serves; only then are the API servers and etcd stopped, the old data
// moved aside (never deleted) and the restored data moved in. A failure before the swap
// changes nothing; after it, the error says how to go back.
import { createReadStream, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { ClusterError } from '../errors.js';
import { adminKubeconfigPath, type LocalCluster } from '../pipeline/local.js';
import type { Reporter } from '../pipeline/progress.js';
import { API_SERVICES, dataDirs, oneShot, restoreArgs, rollbackText, swapInCommands } from '../plan/etcd-ops.js';
import type { ClusterPlan } from '../plan/types.js';
import { KubeClient, credentialsFromKubeconfig, waitFor } from '../runtime/kube.js';
import { composeOn, waitHealthy } from './compose-ops.js';
import { SnapshotStore, clusterIdentity, type SnapshotManifest } from '../runtime/snapshots.js';
import { must, prepareWork, removeWork, snapshotStatus } from './etcd-node.js';
import type { NodeConnector } from './nodes.js';

/** The service of periodic snapshots (etcd.snapshots), paused during the swap. */
const PERIODIC = 'etcd-snapshots';

export interface RestoreResult {
  manifest: SnapshotManifest;
  /** Where each member's data from before the restore now is. */
  aside: string;
  seconds: number;
  /** From stopping the API servers to /readyz again. */
  apiDownSeconds: number;
}

/** Refuses a snapshot of another cluster: its identity must be this state folder's. */
export function checkIdentity(m: SnapshotManifest, cluster: string, identity: string): void {
  if (m.cluster !== cluster || m.identity !== identity) {
    throw new ClusterError(
      `snapshot "${m.name}" belongs to cluster "${m.cluster}" (identity ${m.identity.slice(0, 12)}), not to this one ("${cluster}", identity ${identity.slice(0, 12)})`,
      'nothing was changed; a snapshot restores only into the cluster whose CA and keys it was taken with',
    );
  }
}

export async function restoreSnapshot(cluster: LocalCluster, plan: ClusterPlan, connect: NodeConnector, reporter: Reporter, name: string): Promise<RestoreResult> {
  const started = Date.now();
  const store = new SnapshotStore(cluster.state);
  const { manifest, file } = await reporter.step(`Verifying the sha256 of snapshot ${name}`, () => store.verified(name));
  checkIdentity(manifest, plan.cluster, clusterIdentity(plan.cluster, cluster.state));

  const id = `restore-${Date.now()}`;
  const members = await Promise.all(plan.etcd.members.map(async (m) => ({ ...m, node: await connect(m.name) })));
  // Periodic snapshots (etcd.snapshots) pause while etcd is down, so they neither fail nor save a half-restored store.
  const snapshotters = members.filter((m) => plan.nodes.find((n) => n.name === m.name)?.services.some((sv) => sv.name === PERIODIC));
  const controlPlanes = await Promise.all(plan.nodes.filter((n) => n.roles.includes('control-plane')).map((n) => connect(n.name)));
  const work = new Map<string, string>();
  const cleanup = () => Promise.all(members.map((m) => (work.has(m.name) ? removeWork(m.node, work.get(m.name)!) : undefined)));

  // 1. Restored data dirs next to the live ones; the cluster keeps serving. Failure: nothing changed.
  try {
    await reporter.step(`Restoring into a new data folder on ${members.length} member(s)`, async (update) => {
      for (const m of members) {
        const dir = await prepareWork(m.node, plan, cluster.state, id);
        work.set(m.name, dir);
        await m.node.putTar(tarOfFile(file), dir);
        update(`${m.name}: copied`);
        await snapshotStatus(m.node, plan, dir); // reads the file through: a damaged copy stops here
        await must(m.node, oneShot(plan, dir, 'etcdutl', restoreArgs(plan, m)), 'etcdutl snapshot restore');
        update(`${m.name}: restored`);
      }
    });
  } catch (e) {
    await cleanup();
    throw withHint(e, 'nothing was changed: the cluster runs on its current data');
  }

  // 2. Stop writers, then etcd. Failure: start them again, data untouched.
  const apiDown = Date.now();
  let apiBack = 0;
  try {
    await reporter.step(`Stopping ${API_SERVICES.join(', ')} on ${controlPlanes.length} control plane(s)`, async () => {
      for (const n of controlPlanes) await composeOn(n, ['stop', ...API_SERVICES], 'docker compose stop');
    });
    await reporter.step(`Stopping etcd on ${members.length} member(s)`, async () => {
      await Promise.all(snapshotters.map((m) => composeOn(m.node, ['stop', PERIODIC], `docker compose stop ${PERIODIC}`)));
      await Promise.all(members.map((m) => composeOn(m.node, ['stop', 'etcd'], 'docker compose stop etcd')));
    });
  } catch (e) {
    await Promise.all([...members.map((m) => m.node), ...controlPlanes].map((n) => n.exec(['docker', 'compose', 'up', '-d'], n.bundleDir)));
    await cleanup();
    throw withHint(e, 'the data was not touched; the stopped services were started again');
  }

  // 3. Swap the data in, start etcd, then the control plane. Failure: say how to go back.
  const rollback = rollbackText(plan, id, members[0]!.node.bundleDir);
  try {
    await reporter.step('Moving the old data aside and the restored data in', async () => {
      for (const m of members) for (const argv of swapInCommands(id)) await must(m.node, argv, argv.slice(0, 2).join(' '));
    });
    await reporter.step(`Starting etcd on ${members.length} member(s)`, async (update) => {
      await Promise.all(members.map((m) => composeOn(m.node, ['start', 'etcd'], 'docker compose start etcd')));
      await waitHealthy(members.map((m) => m.node), 'etcd', 180_000, update);
    });
    await reporter.step('Starting the control plane, waiting for /readyz and health', async (update) => {
      for (const n of controlPlanes) await composeOn(n, ['start', ...API_SERVICES], 'docker compose start');
      const kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(cluster.state)));
      try {
        await waitFor('kube-apiserver /readyz', 300_000, async () => {
          const r = await kube.raw('GET', '/readyz').catch((err: Error) => ({ status: 0, text: err.message }));
          update(`HTTP ${r.status}`);
          return r.status === 200 ? true : undefined;
        });
      } finally {
        kube.close();
      }
      apiBack = Date.now();
      // The controller manager and scheduler too: a restore is done when every service it
      // restarted is healthy again, not when the first one answers.
      for (const s of API_SERVICES) await waitHealthy(controlPlanes, s, 180_000, update);
      if (snapshotters.length > 0) {
        await Promise.all(snapshotters.map((m) => composeOn(m.node, ['start', PERIODIC], `docker compose start ${PERIODIC}`)));
        await waitHealthy(snapshotters.map((m) => m.node), PERIODIC, 180_000, update);
      }
    });
  } catch (e) {
    throw withHint(e, `the data from before the restore is in ${dataDirs(id).aside} on every member; to go back:\n${rollback}`);
  }
  const apiDownSeconds = (apiBack - apiDown) / 1000;
  await cleanup();
  return { manifest, aside: dataDirs(id).aside, seconds: (Date.now() - started) / 1000, apiDownSeconds };
}

/** The snapshot as a one-entry tar, streamed (tar-stream needs the size up front). */
function tarOfFile(path: string): NodeJS.ReadableStream {
  const pack = tar.pack();
  const entry = pack.entry({ name: 'snapshot.db', size: statSync(path).size, mode: 0o600, mtime: new Date(0) }, (err) => {
    if (err) pack.destroy(err);
    else pack.finalize();
  });
  createReadStream(path).pipe(entry);
  return pack.pipe(new PassThrough());
}

function withHint(e: unknown, hint: string): unknown {
  if (e instanceof ClusterError) return new ClusterError(e.message, `${hint}${e.hint ? `\n(${e.hint})` : ''}`, { cause: e });
  return e;
}
