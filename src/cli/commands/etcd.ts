// k8s-img etcd snapshot save|list|restore
import { UsageError } from '../../errors.js';
import { dayTwoNodes, type NodeConnector } from '../../daytwo/nodes.js';
import { saveSnapshot } from '../../daytwo/snapshot-save.js';
import { restoreSnapshot } from '../../daytwo/snapshot-restore.js';
import { openAnyCluster, type ClusterHandle } from '../../pipeline/cluster.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { planCluster } from '../../plan/plan.js';
import type { ClusterPlan } from '../../plan/types.js';
import { DockerEngine } from '../../runtime/docker.js';
import { SnapshotStore } from '../../runtime/snapshots.js';
import type { CliIO } from '../io.js';

export async function run(args: { subject: string; action: string; snapshot?: string; config?: string; name?: string; json?: boolean; knownHosts?: string }, io: CliIO): Promise<void> {
  const { cluster } = openAnyCluster(args.config);
  const plan = planCluster(cluster.config);
  const store = new SnapshotStore(cluster.state);
  if (args.action === 'list') {
    const list = store.list();
    if (args.json) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else if (list.length === 0) io.stdout.write(`no snapshots in ${store.dir}\n`);
    else {
      io.stdout.write(`${'NAME'.padEnd(40)} ${'CREATED'.padEnd(24)} ${'K8S'.padEnd(8)} ${'SIZE'.padStart(10)} ${'ETCD KEYS'.padStart(9)}  SHA256\n`);
      for (const s of list) io.stdout.write(`${s.name.padEnd(40)} ${s.createdAt.padEnd(24)} ${s.kubernetesVersion.padEnd(8)} ${`${(s.size / 1048576).toFixed(1)} MiB`.padStart(10)} ${String(s.etcd.totalKey).padStart(9)}  ${s.sha256.slice(0, 16)}\n`);
      io.stdout.write(`in ${store.dir} (each with its cluster.yaml and keys: keep them as secret as the keys themselves)\n`);
    }
    return;
  }
  const docker = new DockerEngine();
  await docker.ping();
  const reporter = new ConsoleReporter(io.stderr);
  const nodes = await dayTwoNodes(cluster, docker, `etcd snapshot ${args.action}`, args.knownHosts ? { knownHosts: args.knownHosts } : {});
  try {
    await saveOrRestore(args, io, cluster, plan, nodes.connect, reporter);
  } finally {
    nodes.close();
  }
}

async function saveOrRestore(
  args: { action: string; snapshot?: string; name?: string },
  io: CliIO,
  cluster: ClusterHandle,
  plan: ClusterPlan,
  connect: NodeConnector,
  reporter: ConsoleReporter,
): Promise<void> {
  if (args.action === 'save') {
    if (args.snapshot) throw new UsageError(`snapshot save takes no positional name ("${args.snapshot}")`, 'give the name with --name');
    const r = await saveSnapshot(cluster, plan, connect, reporter, args.name);
    io.stdout.write(`snapshot ${r.manifest.name}: ${r.manifest.size} bytes, ${r.manifest.etcd.totalKey} keys, revision ${r.manifest.etcd.revision}, from ${r.manifest.member} in ${r.seconds.toFixed(1)} s\n  ${r.path}\n  sha256 ${r.manifest.sha256}\n`);
    io.stdout.write('  with the cluster.yaml and keys (CAs, encryption key): the Secrets in it are readable only with that key\n');
    return;
  }
  if (!args.snapshot) throw new UsageError('snapshot restore needs the snapshot name', 'see `k8s-img etcd snapshot list`');
  const r = await restoreSnapshot(cluster, plan, connect, reporter, args.snapshot);
  io.stdout.write(`restored ${r.manifest.name} (revision ${r.manifest.etcd.revision}, taken ${r.manifest.createdAt}) on ${plan.etcd.members.length} member(s) in ${r.seconds.toFixed(1)} s; API down ${r.apiDownSeconds.toFixed(1)} s\n`);
  io.stdout.write(`  the data from before is kept on each member in ${r.aside} (remove it when satisfied)\n`);
}
