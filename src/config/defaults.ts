// Defaulting: the written config (optional keys) → the resolved config (every key set).
// The defaults are the tutorial's values.
import type { BinarySource, ClusterConfig, NodeConfig, PodSecurityLevel, SecurityMode, SshConfig } from './schema.js';
import { DEFAULT_RELEASE } from './versions.js';

export const DEFAULTS = {
  podCIDR: '172.20.0.0/16',
  serviceCIDR: '10.68.0.0/16',
  clusterDNS: '10.68.0.2',
  dnsDomain: 'cluster.local',
  // Upstream's range: the conformance suite creates NodePorts only inside it. The
  // tutorial's 20000-40000 stays available through networking.nodePortRange.
  nodePortRange: '30000-32767',
  // VXLAN works wherever nodes reach each other over UDP, also across routed (L3)
  // networks; BGP without encapsulation (the tutorial's) needs nodes on one L2
  // network or routers that peer with Calico.
  calicoBackend: 'vxlan',
  /** Node MTU 1500 minus VXLAN's 50 bytes; BGP routes carry pods' packets unchanged. */
  calicoMTU: { vxlan: 1450, bgp: 1500 },
  /** Calico's default AS (a private one), as the tutorial's mesh had. */
  calicoAS: 64512,
  securityMode: 'secure' as SecurityMode,
  // Baseline stops known privilege escalations and still runs ordinary workloads;
  // restricted (the hardened profile) is reported to the user and the audit log.
  podSecurity: { enforce: 'baseline' as PodSecurityLevel, warn: 'restricted' as PodSecurityLevel, audit: 'restricted' as PodSecurityLevel },
  imagePrefix: 'k8s-img',
  binarySource: 'go' as BinarySource,
  goproxy: 'https://proxy.golang.org',
  /** Periodic etcd snapshots, when `etcd.snapshots` is given without these (RKE2's defaults are 12h and 5). */
  etcdSnapshots: { every: '6h', keep: 5 },
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
    calico: { backend: 'vxlan' | 'bgp'; mtu: number; asNumber: number };
  };
  security: {
    mode: SecurityMode;
    podSecurity: { enforce: PodSecurityLevel; warn: PodSecurityLevel; audit: PodSecurityLevel; exemptNamespaces: string[] };
  };
  /** Periodic snapshots on every etcd member; undefined: off. */
  etcd: { snapshots: { every: string; keep: number } | undefined };
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
        mtu: n.calico?.mtu ?? DEFAULTS.calicoMTU[n.calico?.backend ?? DEFAULTS.calicoBackend],
        asNumber: n.calico?.asNumber ?? DEFAULTS.calicoAS,
      },
    },
    etcd: {
      snapshots: c.etcd?.snapshots ? { every: c.etcd.snapshots.every ?? DEFAULTS.etcdSnapshots.every, keep: c.etcd.snapshots.keep ?? DEFAULTS.etcdSnapshots.keep } : undefined,
    },
    security: {
      mode: c.security?.mode ?? DEFAULTS.securityMode,
      podSecurity: {
        enforce: c.security?.podSecurity?.enforce ?? DEFAULTS.podSecurity.enforce,
        warn: c.security?.podSecurity?.warn ?? DEFAULTS.podSecurity.warn,
        audit: c.security?.podSecurity?.audit ?? DEFAULTS.podSecurity.audit,
        exemptNamespaces: c.security?.podSecurity?.exemptNamespaces ?? [],
      },
    },
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
