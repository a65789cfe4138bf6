// Which upstream versions make up a k8s-img release of Kubernetes, and which of
// them were actually run here. Versions come from what the Go module proxy
// serves and what kubeadm pairs with each minor (cmd/kubeadm/app/constants).

export interface ComponentVersions {
  kubernetes: string;
  etcd: string;
  coredns: string;
  pause: string;
  /** The pod runtime: containerd and the runc it drives. */
  containerd: string;
  runc: string;
  /** The distribution registry each cluster serves its own images from. */
  registry: string;
  cniPlugins: string;
  calico: CalicoSource;
}

/** Calico's module has no /v3 suffix: a commit of a release branch, pinned as a pseudo-version. */
export interface CalicoSource {
  release: string; // the Calico release the commit belongs to (charts/calico/values.yaml)
  module: string; // pseudo-version of github.com/projectcalico/calico
  api: string; // pseudo-version of github.com/projectcalico/api (a nested module, not in the zip)
}

export interface SupportedRelease extends ComponentVersions {
  /** ci: every integration suite runs it; manual: up + status + verify run by hand (date in note); no: built only. */
  tested: 'ci' | 'manual' | 'no';
  note?: string;
}

const calico3285: CalicoSource = {
  release: 'v3.28.5',
  module: 'v1.11.0-cni-plugin.0.20250813170300-a0db560f0520',
  api: 'v0.0.0-20240708202104-e3f70b269c2c',
};

/** What kubeadm 1.37 pairs with 1.35–1.37 (etcd at the newest patch the proxy serves). */
const components = {
  etcd: '3.7.3',
  coredns: '1.14.6',
  pause: '3.10.2',
  // containerd 2.4.2 is tested upstream with runc 1.5.2 (script/setup/runc-version).
  containerd: '2.4.2',
  runc: '1.5.2',
  registry: '3.1.2',
  cniPlugins: '1.10.0',
  calico: calico3285,
};

/** Newest first. The first entry is the default. */
export const SUPPORTED_RELEASES: readonly SupportedRelease[] = [
  { kubernetes: '1.37.2', ...components, tested: 'ci' },
  { kubernetes: '1.36.3', ...components, tested: 'manual', note: 'up + status + verify passed on 2026-11-26' },
  {
    kubernetes: '1.35.4',
    ...components,
    tested: 'manual',
    note: 'up + status + verify passed on 2026-11-26; kubelet 1.35+ refuses cgroup v1 unless failCgroupV1 is false, which k8s-img always sets',
  },
];

export const DEFAULT_RELEASE: SupportedRelease = SUPPORTED_RELEASES[0]!;

export function findRelease(version: string): SupportedRelease | undefined {
  return SUPPORTED_RELEASES.find((r) => r.kubernetes === version);
}
