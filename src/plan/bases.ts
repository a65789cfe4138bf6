// Root filesystems made with mmdebstrap (no registry needed): the userland base
// for images that need tools, and the node image of local mode.

export interface RootfsSpec {
  /** Names the image: <prefix>/rootfs-<id>. */
  id: string;
  suite: string;
  packages: string[];
  purpose: string;
}

export const ROOTFS: Record<'tools' | 'node', RootfsSpec> = {
  tools: {
    id: 'tools',
    suite: 'trixie',
    // kubelet: mount, nsenter, iptables, socat (port-forward); kube-proxy: iptables, conntrack, ipset;
    // calico-node: iptables, ipset, iproute2, conntrack; host-prep: sysctl (procps).
    packages: ['iptables', 'ipset', 'conntrack', 'iproute2', 'procps', 'mount', 'util-linux', 'kmod', 'socat', 'ca-certificates'],
    purpose: 'Debian userland for kubelet, kube-proxy, calico-node and host-prep',
  },
  node: {
    id: 'node',
    suite: 'trixie',
    packages: ['docker.io', 'docker-cli', 'docker-compose', 'iptables', 'iproute2', 'procps', 'mount', 'util-linux', 'kmod', 'ca-certificates'],
    purpose: 'a machine for local mode: Debian with Docker and Compose v2',
  },
};
