// Root filesystems made with mmdebstrap (no registry needed): the userland base
// for images that need tools, and the node image of local mode.

export interface RootfsSpec {
  /** Names the image (rootfs-<id>); the e2e test images add their own (conformance/test-images.ts). */
  id: string;
  suite: string;
  /**
   * Further suites apt may take packages from. apt prefers the newest version, so
   * only what `suite` lacks comes from them.
   */
  extraSuites?: string[];
  packages: string[];
  purpose: string;
}

export const ROOTFS: Record<'tools' | 'node', RootfsSpec> = {
  tools: {
    id: 'tools',
    // kubelet: mount, nsenter, iptables, socat (port-forward); kube-proxy: iptables, conntrack, ipset;
    // calico-node: iptables, ipset, iproute2, conntrack, bird (BGP); host-prep: sysctl (procps).
    // BIRD 1.x, whose configuration language Calico's confd writes, left Debian after
    // bookworm: bookworm's 1.6.8 (and its libreadline8) runs on trixie's libc. It adds
    // 2 MB to this shared base; a base of its own for calico-node would add 95 MB.
    suite: 'trixie',
    extraSuites: ['bookworm'],
    packages: ['iptables', 'ipset', 'conntrack', 'iproute2', 'procps', 'mount', 'util-linux', 'kmod', 'socat', 'ca-certificates', 'bird'],
    purpose: 'Debian userland for kubelet, kube-proxy, calico-node and host-prep',
  },
  node: {
    id: 'node',
    suite: 'trixie',
    packages: ['docker.io', 'docker-cli', 'docker-compose', 'iptables', 'iproute2', 'procps', 'mount', 'util-linux', 'kmod', 'ca-certificates'],
    purpose: 'a machine for local mode: Debian with Docker and Compose v2',
  },
};
