// down: the cluster's stacks go away, its keys stay. Local mode removes the node
// containers, their volumes and the network (by label); on machines reached over SSH
// each node's stack is torn down, pods, data and bundle included (images stay).
import { HostError } from '../errors.js';
import { spareOnDown } from '../plan/names.js';
import { planCluster } from '../plan/plan.js';
import { LocalProvider } from '../providers/local.js';
import { forgetNode, type DeployRecord } from '../runtime/deploy-record.js';
import type { DockerEngine } from '../runtime/docker.js';
import { sshProvider, type ClusterHandle, type SshOptions } from './cluster.js';
import { teardownStack } from './node-ops.js';
import type { Reporter } from './progress.js';

export async function down(cluster: ClusterHandle, record: DeployRecord | undefined, docker: DockerEngine, ssh: SshOptions, reporter: Reporter): Promise<string> {
  const name = cluster.config.name;
  if (record?.provider !== 'ssh') {
    await docker.ping();
    const removed = await new LocalProvider(docker, cluster.config).removeAll(spareOnDown(name));
    for (const n of record?.nodes ?? []) forgetNode(cluster.state, n.name);
    return `cluster "${name}": removed ${removed.containers} containers, ${removed.volumes} volumes, ${removed.networks} networks`;
  }
  const provider = sshProvider(cluster, record, ssh);
  const image = planCluster(cluster.config).images['host-prep'];
  try {
    const results = await reporter.step(`Tearing down the stacks on ${record.nodes.length} nodes`, () =>
      Promise.allSettled(
        record.nodes.map(async (n) => {
          await teardownStack(await provider.connect(n.name), name, image, true);
          forgetNode(cluster.state, n.name);
        }),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${record.nodes[i]!.name}: ${(r.reason as Error).message}`] : []));
    if (failed.length > 0) throw new HostError(`down failed on ${failed.length} node(s):\n  ${failed.join('\n  ')}`, 'the other nodes are down; fix these and run down again');
    return `cluster "${name}": stacks removed from ${record.nodes.length} nodes (images stay; keys stay in ${cluster.state.dir})`;
  } finally {
    provider.close();
  }
}
