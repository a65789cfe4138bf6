// How commands that work on a running cluster (cis, load, logs) reach its nodes: run
// a command, send a tar, fetch a tar. This is the one place where nodes are found —
// local node containers today. Machines reached over SSH (issue 9's NodeProvider)
// plug in by replacing `nodeAccess` alone: its `connect(node)` hosts already run
// commands and take tars; `getTar` is `tar -cf - -C DIR .` over the same channel.
import { ClusterError } from '../errors.js';
import type { ClusterPlan } from '../plan/types.js';
import { LABEL } from '../render/compose.js';
import type { BundleTarget } from '../runtime/bundle-sync.js';
import type { DockerEngine } from '../runtime/docker.js';
import { NODE_BUNDLE, clusterLabels, containerTarget, names } from './local.js';

/** One node, reachable. */
export interface NodeAccess extends BundleTarget {
  readonly node: string;
  /** How the node is reached, for messages (`container k8s-img-demo-sm1`). */
  readonly where: string;
  /** Where the node keeps its bundle. */
  readonly bundleDir: string;
  /** A file or folder on the node as a tar stream (entries under its base name). */
  getTar(path: string): Promise<NodeJS.ReadableStream>;
}

/**
 * Every node of the plan, reachable; `undefined` when the cluster has no node k8s-img
 * can reach (it runs on real machines: commands then work from the state folder, or
 * say that they cannot). A node that exists but is stopped is an error.
 */
export async function nodeAccess(docker: DockerEngine, plan: ClusterPlan): Promise<Map<string, NodeAccess> | undefined> {
  const containers = (await docker.list(clusterLabels(plan.cluster))).filter((c) => c.Labels[LABEL.component] === 'node');
  if (containers.length === 0) return undefined;
  const out = new Map<string, NodeAccess>();
  for (const n of plan.nodes) {
    const container = names.node(plan.cluster, n.name);
    const state = await docker.containerState(container);
    if (!state?.running) throw new ClusterError(`node container ${container} is not running`, 'start the cluster with `k8s-img up`');
    out.set(n.name, {
      ...containerTarget(docker, container),
      node: n.name,
      where: `container ${container}`,
      bundleDir: NODE_BUNDLE,
      getTar: (path) => docker.getArchive(container, path),
    });
  }
  return out;
}

/** Like nodeAccess, for commands that can do nothing without the nodes. */
export async function requireNodeAccess(docker: DockerEngine, plan: ClusterPlan, command: string): Promise<Map<string, NodeAccess>> {
  const nodes = await nodeAccess(docker, plan);
  if (!nodes) {
    throw new ClusterError(
      `cluster ${plan.cluster} has no local node containers: k8s-img ${command} reaches nodes through them`,
      'start it with `k8s-img up`; machines reached over SSH are not supported yet',
    );
  }
  return nodes;
}
