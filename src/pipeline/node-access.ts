// How commands that work on a running cluster (load, logs) reach all of its nodes at
// once: through the cluster's NodeProvider — node containers after `up`, machines over
// SSH after `deploy` — so these commands never care which.
import { ClusterError } from '../errors.js';
import { planCluster } from '../plan/plan.js';
import type { NodeHost } from '../providers/types.js';
import { readRecord } from '../runtime/deploy-record.js';
import type { DockerEngine } from '../runtime/docker.js';
import { providerFor, type ClusterHandle, type SshOptions } from './cluster.js';

export interface ConnectedNodes {
  hosts: Map<string, NodeHost>;
  close(): void;
}

/** Every node of the cluster, connected; a cluster k8s-img cannot reach (machines set up by hand) is an error naming `command`. */
export async function connectNodes(cluster: ClusterHandle, docker: DockerEngine, command: string, ssh: SshOptions = {}): Promise<ConnectedNodes> {
  const plan = planCluster(cluster.config);
  const provider = await providerFor(cluster, readRecord(cluster.state), docker, ssh);
  if (!provider) {
    throw new ClusterError(
      `cluster ${plan.cluster} has neither local node containers nor a deploy record: k8s-img ${command} reaches nodes through them`,
      'start it with `k8s-img up` or `k8s-img deploy`',
    );
  }
  const hosts = new Map<string, NodeHost>();
  try {
    for (const n of plan.nodes) hosts.set(n.name, await provider.connect(n.name));
  } catch (e) {
    for (const h of hosts.values()) h.close();
    provider.close();
    throw e;
  }
  return {
    hosts,
    close: () => {
      for (const h of hosts.values()) h.close();
      provider.close();
    },
  };
}
