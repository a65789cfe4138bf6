// Nodes that left cluster.yaml: each, in turn, loses its etcd member first (only if the
// members that stay keep a healthy quorum), is drained, has its Node object deleted,
// and has its stack torn down; then it is forgotten.
import type { ResolvedConfig } from '../config/defaults.js';
import { ClusterError } from '../errors.js';
import type { ClusterPlan } from '../plan/types.js';
import type { NodeProvider } from '../providers/types.js';
import { forgetNode, type DeployRecord, type RecordedNode } from '../runtime/deploy-record.js';
import { KubeClient, credentialsFromKubeconfig } from '../runtime/kube.js';
import { adminKubeconfigPath, type ClusterHandle } from './cluster.js';
import { drainNode } from './drain.js';
import { EtcdAdmin, quorumAfterRemoval } from './etcd-members.js';
import { teardownStack } from './node-ops.js';
import type { Reporter } from './progress.js';

export function leavingNodes(record: DeployRecord | undefined, config: ResolvedConfig): RecordedNode[] {
  return (record?.nodes ?? []).filter((n) => !config.nodes.some((c) => c.name === n.name));
}

export async function removeNodes(cluster: ClusterHandle, plan: ClusterPlan, provider: NodeProvider, leaving: RecordedNode[], reporter: Reporter): Promise<string[]> {
  const kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(cluster.state)));
  const removed: string[] = [];
  try {
    for (const node of leaving) {
      await reporter.step(`Removing node ${node.name} (${node.roles.join(', ')})`, async (update) => {
        const etcd = node.roles.includes('etcd') ? await etcdOf(plan, provider) : undefined;
        const member = etcd ? (await etcd.members()).find((m) => m.name === node.name) : undefined;
        if (etcd && member) {
          update('etcd quorum check');
          const members = await etcd.members();
          const verdict = quorumAfterRemoval(members, await etcd.healthy(members), node.name);
          if (!verdict.ok) {
            throw new ClusterError(`removing etcd member ${node.name} would break quorum: ${verdict.detail}; nothing was changed`, `bring the unhealthy members back first (k8s-img status), then run again`);
          }
        }
        update('draining');
        const drained = await drainNode(kube, node.name, update);
        if (etcd && member) {
          update('removing its etcd member');
          await etcd.remove(member);
        }
        await kube.delete(`/api/v1/nodes/${node.name}`).catch(() => undefined);
        update('tearing its stack down');
        let teardown = 'stack removed';
        try {
          const host = await provider.connect(node.name);
          await teardownStack(host, plan.cluster, plan.images['host-prep'], true);
        } catch (e) {
          // The usual reason to remove a node is that the machine is gone.
          teardown = `could not tear its stack down (${(e as Error).message.split('\n')[0]}): clean the machine by hand if it comes back`;
          reporter.warn(`${node.name}: ${teardown}`);
        }
        await provider.release(node.name);
        forgetNode(cluster.state, node.name);
        reporter.info(`  ✓ ${node.name}: ${drained.evicted} pods evicted${drained.forced ? `, ${drained.forced} deleted` : ''}, Node deleted${member ? ', etcd member removed' : ''}, ${teardown}`);
      });
      removed.push(node.name);
    }
  } finally {
    kube.close();
  }
  return removed;
}

/** etcdctl on the first member that stays. */
async function etcdOf(plan: ClusterPlan, provider: NodeProvider): Promise<EtcdAdmin> {
  const staying = plan.nodes.filter((n) => n.roles.includes('etcd'));
  for (const n of staying) {
    try {
      return new EtcdAdmin(await provider.connect(n.name), plan.mode === 'secure');
    } catch {
      /* try the next member */
    }
  }
  throw new ClusterError('no etcd member that stays can be reached', 'bring one back (k8s-img status), then run again');
}
