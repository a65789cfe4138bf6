// Reaching the cluster's nodes for day-two work. Local node containers today; with
// the NodeProvider (SSH machines), this is the one file that changes.
import { NODE_BUNDLE, names } from '../pipeline/local.js';
import type { ClusterPlan } from '../plan/types.js';
import type { DockerEngine } from '../runtime/docker.js';
import { containerAccess, type NodeAccess } from '../runtime/node-access.js';

export type NodeConnector = (node: string) => NodeAccess;

export function localConnector(docker: DockerEngine, plan: ClusterPlan): NodeConnector {
  return (node) => containerAccess(docker, node, names.node(plan.cluster, node), NODE_BUNDLE);
}
