// Which upstream versions make up a k8s-img release of Kubernetes, and which of
// them were actually run here. Versions come from what the Go module proxy
// serves and what kubeadm pairs with each minor (cmd/kubeadm/app/constants).

export interface ComponentVersions {
  kubernetes: string;
  etcd: string;
  coredns: string;
  pause: string;
  criDockerd: string;
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
  /** Whether the integration suite ran against this version on this project's CI machine. */
  tested: boolean;
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
  criDockerd: '0.4.0',
  cniPlugins: '1.10.0',
  calico: calico3285,
};

/** Newest first. The first entry is the default. */
export const SUPPORTED_RELEASES: readonly SupportedRelease[] = [
  { kubernetes: '1.37.2', ...components, tested: true },
  { kubernetes: '1.36.3', ...components, tested: false },
  {
    kubernetes: '1.35.4',
    ...components,
    tested: false,
    note: 'kubelet 1.35+ refuses cgroup v1 unless failCgroupV1 is false; k8s-img always sets it',
  },
];

export const DEFAULT_RELEASE: SupportedRelease = SUPPORTED_RELEASES[0]!;

export function findRelease(version: string): SupportedRelease | undefined {
  return SUPPORTED_RELEASES.find((r) => r.kubernetes === version);
}

export function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
