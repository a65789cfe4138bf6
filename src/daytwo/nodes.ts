// Reaching the cluster's nodes for day-two work (etcd snapshots, restores, upgrades):
// through the cluster's NodeProvider, node containers after `up`, machines over SSH
// after `deploy`. Connections are opened once per node and closed with the connector.
import { ClusterError, HostError } from '../errors.js';
import { providerFor, type ClusterHandle, type SshOptions } from '../pipeline/cluster.js';
import { NODE_BUNDLE, names } from '../pipeline/local.js';
import type { ClusterPlan } from '../plan/types.js';
import type { NodeProvider } from '../providers/types.js';
import { readRecord } from '../runtime/deploy-record.js';
import type { DockerEngine } from '../runtime/docker.js';
import { containerAccess, type NodeAccess } from '../runtime/node-access.js';

export type NodeConnector = (node: string) => Promise<NodeAccess>;

/** Local node containers only (tests that reach one node directly). */
export function localConnector(docker: DockerEngine, plan: ClusterPlan): NodeConnector {
  return async (node) => containerAccess(docker, node, names.node(plan.cluster, node), NODE_BUNDLE);
}

export interface DayTwoNodes {
  connect: NodeConnector;
  kind: NodeProvider['kind'];
  close(): void;
}

/**
 * The nodes of a running cluster, over its provider. Machines over SSH must be reached
 * as root: a restore moves etcd's data folder, a snapshot is written under /var/lib.
 */
export async function dayTwoNodes(cluster: ClusterHandle, docker: DockerEngine, command: string, ssh: SshOptions = {}): Promise<DayTwoNodes> {
  const provider = await providerFor(cluster, readRecord(cluster.state), docker, ssh);
  if (!provider) {
    throw new ClusterError(
      `cluster ${cluster.config.name} has neither local node containers nor a deploy record: k8s-img ${command} reaches nodes through them`,
      'start it with `k8s-img up` or `k8s-img deploy`; on machines set up by hand, use etcdctl/etcdutl there',
    );
  }
  return { connect: connectorOf(provider, command), kind: provider.kind, close: () => provider.close() };
}

export function connectorOf(provider: NodeProvider, command: string): NodeConnector {
  const checked = new Map<string, Promise<NodeAccess>>();
  return (node) => {
    let p = checked.get(node);
    if (!p) {
      p = (async () => {
        const host = await provider.connect(node);
        if (provider.kind === 'ssh') {
          const who = await host.exec(['id', '-u']);
          if (who.code !== 0 || who.stdout.trim() !== '0') {
            throw new HostError(
              `k8s-img ${command} on ${node} (${host.where}): the login user is not root (id -u: ${who.stdout.trim() || who.stderr.trim()})`,
              'etcd snapshots, restores and upgrades write /var/lib/k8s-img and move /var/lib/etcd: give this node `ssh: { user: root }`',
            );
          }
        }
        return host;
      })();
      checked.set(node, p);
      p.catch(() => checked.delete(node));
    }
    return p;
  };
}
