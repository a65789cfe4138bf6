// k8s-img etcd snapshot save|list|fetch|restore
import { UsageError } from '../../errors.js';
import { dayTwoNodes, type NodeConnector } from '../../daytwo/nodes.js';
import { fetchPeriodic, listPeriodic, type PeriodicSnapshot } from '../../daytwo/snapshot-periodic.js';
import { saveSnapshot } from '../../daytwo/snapshot-save.js';
import { restoreSnapshot } from '../../daytwo/snapshot-restore.js';
import { openAnyCluster, type ClusterHandle } from '../../pipeline/cluster.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { fetchedName, parsePeriodicRef } from '../../plan/etcd-ops.js';
import { planCluster } from '../../plan/plan.js';
import type { ClusterPlan } from '../../plan/types.js';
import { DockerEngine } from '../../runtime/docker.js';
import { SnapshotStore } from '../../runtime/snapshots.js';
import type { CliIO } from '../io.js';

type Args = { subject: string; action: string; snapshot?: string; config?: string; name?: string; json?: boolean; knownHosts?: string };

export async function run(args: Args, io: CliIO): Promise<void> {
  const { cluster } = openAnyCluster(args.config);
  const plan = planCluster(cluster.config);
  if (args.action === 'list') return list(args, io, cluster, plan);
  const docker = new DockerEngine();
  await docker.ping();
  const reporter = new ConsoleReporter(io.stderr);
  const nodes = await dayTwoNodes(cluster, docker, `etcd snapshot ${args.action}`, sshOptions(args));
  try {
    await act(args, io, cluster, plan, nodes.connect, reporter);
  } finally {
    nodes.close();
  }
}

const sshOptions = (args: Args) => (args.knownHosts ? { knownHosts: args.knownHosts } : {});

/** The snapshots in the state folder; with etcd.snapshots, also those on the members (when they can be reached). */
async function list(args: Args, io: CliIO, cluster: ClusterHandle, plan: ClusterPlan): Promise<void> {
  const store = new SnapshotStore(cluster.state);
  const local = store.list();
  let periodic: PeriodicSnapshot[] = [];
  let unreachable: string[] = [];
  if (cluster.config.etcd.snapshots) {
    try {
      const docker = new DockerEngine();
      await docker.ping();
      const nodes = await dayTwoNodes(cluster, docker, 'etcd snapshot list', sshOptions(args));
      try {
        ({ found: periodic, failed: unreachable } = await listPeriodic(plan, nodes.connect));
      } finally {
        nodes.close();
      }
    } catch (e) {
      unreachable = [(e as Error).message.split('\n')[0]!];
    }
  }
  if (args.json) {
    io.stdout.write(`${JSON.stringify([...local, ...periodic.map((p) => ({ ...p, name: p.ref, periodic: true }))], null, 2)}\n`);
    return;
  }
  const row = (name: string, created: string, k8s: string, size: number, keys: string, sha: string) =>
    `${name.padEnd(40)} ${created.padEnd(24)} ${k8s.padEnd(8)} ${`${(size / 1048576).toFixed(1)} MiB`.padStart(10)} ${keys.padStart(9)}  ${sha.slice(0, 16)}\n`;
  if (local.length === 0) io.stdout.write(`no snapshots in ${store.dir}\n`);
  else {
    io.stdout.write(`${'NAME'.padEnd(40)} ${'CREATED'.padEnd(24)} ${'K8S'.padEnd(8)} ${'SIZE'.padStart(10)} ${'ETCD KEYS'.padStart(9)}  SHA256\n`);
    for (const s of local) io.stdout.write(row(s.name, s.createdAt, s.kubernetesVersion, s.size, String(s.etcd.totalKey), s.sha256));
    io.stdout.write(`in ${store.dir} (each with its cluster.yaml and keys: keep them as secret as the keys themselves)\n`);
  }
  const every = cluster.config.etcd.snapshots;
  if (!every) return;
  io.stdout.write(`\nperiodic, on the members (etcd.snapshots: every ${every.every}, keep ${every.keep}):\n`);
  for (const p of periodic) io.stdout.write(row(p.ref, p.createdAt, p.kubernetesVersion, p.size, '', p.sha256));
  if (periodic.length === 0) io.stdout.write('  none yet\n');
  for (const u of unreachable) io.stdout.write(`  not reached: ${u}\n`);
  if (periodic.length > 0) io.stdout.write('restore one with `k8s-img etcd snapshot restore <node>:<name>` (fetched into the state folder first), or keep a copy with `fetch`\n');
}

async function act(args: Args, io: CliIO, cluster: ClusterHandle, plan: ClusterPlan, connect: NodeConnector, reporter: ConsoleReporter): Promise<void> {
  if (args.action === 'save') {
    if (args.snapshot) throw new UsageError(`snapshot save takes no positional name ("${args.snapshot}")`, 'give the name with --name');
    const r = await saveSnapshot(cluster, plan, connect, reporter, args.name);
    io.stdout.write(`snapshot ${r.manifest.name}: ${r.manifest.size} bytes, ${r.manifest.etcd.totalKey} keys, revision ${r.manifest.etcd.revision}, from ${r.manifest.member} in ${r.seconds.toFixed(1)} s\n  ${r.path}\n  sha256 ${r.manifest.sha256}\n`);
    io.stdout.write('  with the cluster.yaml and keys (CAs, encryption key): the Secrets in it are readable only with that key\n');
    return;
  }
  if (!args.snapshot) throw new UsageError(`snapshot ${args.action} needs the snapshot's name`, 'see `k8s-img etcd snapshot list`');
  if (args.action === 'fetch') {
    const r = await fetchPeriodic(cluster, plan, connect, reporter, args.snapshot, args.name);
    io.stdout.write(`snapshot ${r.manifest.name}: ${args.snapshot} (${r.manifest.size} bytes, ${r.manifest.etcd.totalKey} keys, revision ${r.manifest.etcd.revision}) in ${r.seconds.toFixed(1)} s, sha256 checked\n  ${r.path}\n`);
    return;
  }
  let name = args.snapshot;
  // <node>:<name>: a periodic snapshot, fetched (and checked) first unless it was already.
  const ref = parsePeriodicRef(name);
  if (ref) {
    name = args.name ?? fetchedName(ref);
    if (!new SnapshotStore(cluster.state).has(name)) await fetchPeriodic(cluster, plan, connect, reporter, args.snapshot, name);
  }
  const r = await restoreSnapshot(cluster, plan, connect, reporter, name);
  io.stdout.write(`restored ${r.manifest.name} (revision ${r.manifest.etcd.revision}, taken ${r.manifest.createdAt}) on ${plan.etcd.members.length} member(s) in ${r.seconds.toFixed(1)} s; API down ${r.apiDownSeconds.toFixed(1)} s\n`);
  io.stdout.write(`  the data from before is kept on each member in ${r.aside} (remove it when satisfied)\n`);
}
