// Defaulting: the written config (optional keys) → the resolved config (every key set).
// The defaults are the tutorial's values.
import type { BinarySource, ClusterConfig, NodeConfig, SecurityMode, SshConfig } from './schema.js';
import { DEFAULT_RELEASE } from './versions.js';

export const DEFAULTS = {
  podCIDR: '172.20.0.0/16',
  serviceCIDR: '10.68.0.0/16',
  clusterDNS: '10.68.0.2',
  dnsDomain: 'cluster.local',
  // Upstream's range: the conformance suite creates NodePorts only inside it. The
  // tutorial's 20000-40000 stays available through networking.nodePortRange.
  nodePortRange: '30000-32767',
  calicoBackend: 'vxlan',
  calicoMTU: 1450,
  securityMode: 'secure' as SecurityMode,
  imagePrefix: 'k8s-img',
  binarySource: 'go' as BinarySource,
  goproxy: 'https://proxy.golang.org',
} as const;

export interface ResolvedConfig {
  name: string;
  kubernetesVersion: string;
  nodes: NodeConfig[];
  /** Defaults for the nodes' ssh blocks (`deploy`); merged per node by sshSettings(). */
  ssh: SshConfig | undefined;
  networking: {
    podCIDR: string;
    serviceCIDR: string;
    clusterDNS: string;
    dnsDomain: string;
    nodePortRange: string;
    upstreamDNS: string[] | undefined;
    calico: { backend: 'vxlan' | 'bgp'; mtu: number };
  };
  security: { mode: SecurityMode };
  images: { prefix: string; base: string | undefined };
  binaries: { source: BinarySource; dir: string | undefined; releaseURL: string | undefined; goproxy: string | undefined };
}

export function resolveDefaults(c: ClusterConfig): ResolvedConfig {
  const n = c.networking ?? {};
  return {
    name: c.name,
    kubernetesVersion: c.kubernetesVersion ?? DEFAULT_RELEASE.kubernetes,
    nodes: c.nodes,
    ssh: c.ssh,
    networking: {
      podCIDR: n.podCIDR ?? DEFAULTS.podCIDR,
      serviceCIDR: n.serviceCIDR ?? DEFAULTS.serviceCIDR,
      clusterDNS: n.clusterDNS ?? DEFAULTS.clusterDNS,
      dnsDomain: n.dnsDomain ?? DEFAULTS.dnsDomain,
      nodePortRange: n.nodePortRange ?? DEFAULTS.nodePortRange,
      upstreamDNS: n.upstreamDNS,
      calico: {
        backend: n.calico?.backend ?? DEFAULTS.calicoBackend,
        mtu: n.calico?.mtu ?? DEFAULTS.calicoMTU,
      },
    },
    security: { mode: c.security?.mode ?? DEFAULTS.securityMode },
    images: { prefix: c.images?.prefix ?? DEFAULTS.imagePrefix, base: c.images?.base },
    binaries: {
      source: c.binaries?.source ?? DEFAULTS.binarySource,
      dir: c.binaries?.dir,
      releaseURL: c.binaries?.releaseURL,
      goproxy: c.binaries?.goproxy,
    },
  };
}

/** A node's ssh settings: its own block over the top-level one (unset keys stay unset). */
export function sshSettings(c: ResolvedConfig, node: NodeConfig): SshConfig | undefined {
  if (!c.ssh && !node.ssh) return undefined;
  return { ...c.ssh, ...node.ssh };
}
