// Facts about the whole cluster that every component's definition may read.
import type { ResolvedConfig } from '../config/defaults.js';
import type { NodeConfig, Role } from '../config/schema.js';
import type { SupportedRelease } from '../config/versions.js';
import { nth, parseCidr } from '../config/net.js';
import { API_LB_PORT, APISERVER_PORT } from './ports.js';
import type { ImageId } from './types.js';

export interface ClusterFacts {
  config: ResolvedConfig;
  release: SupportedRelease;
  secure: boolean;
  images: Record<ImageId, string>;
  controlPlanes: NodeConfig[];
  etcdMembers: NodeConfig[];
  /** The first control plane's apiserver: where the admin kubeconfig points. */
  apiServerURL: string;
  /** Where node components reach the API: the node's own api-lb, over every control plane. */
  nodeAPIEndpoint: string;
  etcdEndpoints: string[];
  kubernetesServiceIP: string;
}

export interface NodeContext extends ClusterFacts {
  node: NodeConfig;
  has: (role: Role) => boolean;
  isFirstControlPlane: boolean;
}

export function clusterFacts(config: ResolvedConfig, release: SupportedRelease, images: Record<ImageId, string>): ClusterFacts {
  const withRole = (r: Role) => config.nodes.filter((n) => n.roles.includes(r));
  const controlPlanes = withRole('control-plane');
  const etcdMembers = withRole('etcd');
  const secure = config.security.mode === 'secure';
  const scheme = secure ? 'https' : 'http';
  return {
    config,
    release,
    secure,
    images,
    controlPlanes,
    etcdMembers,
    apiServerURL: `https://${controlPlanes[0]!.address}:${APISERVER_PORT}`,
    nodeAPIEndpoint: `https://127.0.0.1:${API_LB_PORT}`,
    etcdEndpoints: etcdMembers.map((m) => `${scheme}://${m.address}:2379`),
    kubernetesServiceIP: nth(parseCidr(config.networking.serviceCIDR)!, 1),
  };
}

export function nodeContext(facts: ClusterFacts, node: NodeConfig): NodeContext {
  return {
    ...facts,
    node,
    has: (role) => node.roles.includes(role),
    isFirstControlPlane: facts.controlPlanes[0]?.name === node.name,
  };
}
