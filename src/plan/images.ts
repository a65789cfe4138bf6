// The image table: what goes into each image and how it is tagged. Pure data;
// runtime/imagebuild.ts turns it into `docker build` calls.
import type { ComponentVersions } from '../config/versions.js';
import type { ImageId } from './types.js';

/** Binaries produced by `k8s-img fetch` (see runtime/sources.ts for where each comes from). */
export type BinaryName =
  | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet' | 'kube-proxy' | 'kubectl'
  | 'etcd' | 'etcdctl' | 'etcdutl'
  | 'cri-dockerd'
  | 'calico-node' | 'calico'
  | 'loopback' | 'portmap' | 'bandwidth' | 'host-local'
  | 'coredns'
  | 'pause'
  | 'k8s-img-probe'
  | 'k8s-img-workload';

export interface ImageDef {
  id: ImageId;
  /** The tag: the upstream version of what the image wraps. */
  tag: (v: ComponentVersions) => string;
  /** scratch: static binaries only; tools: the Debian userland (iptables, mount, ...). */
  base: 'scratch' | 'tools';
  /** Installed to /usr/local/bin (CNI plugins to /opt/cni/bin). */
  binaries: BinaryName[];
  /** The binary whose size the image is compared with (benchmark). */
  main?: BinaryName;
  /** A command that prints the version, run as the image's entrypoint-less command. */
  versionCommand: string[];
  /** What versionCommand must print. */
  expectVersion: (v: ComponentVersions) => string;
  /** Extra build inputs that are not binaries: what Dockerfile.hbs adds from images/<id>/. */
  extras?: 'calico-manifests';
}

const k8s = (v: ComponentVersions) => `v${v.kubernetes}`;
const kube = (main: BinaryName, base: ImageDef['base'] = 'scratch', extra: BinaryName[] = []): Omit<ImageDef, 'id'> => ({
  tag: k8s,
  base,
  binaries: [main, ...extra, 'k8s-img-probe'],
  main,
  versionCommand: [main, '--version'],
  expectVersion: (v) => `Kubernetes v${v.kubernetes}`,
});

export const CNI_PLUGINS: readonly BinaryName[] = ['calico', 'loopback', 'portmap', 'bandwidth', 'host-local'];

export const IMAGES: Record<ImageId, Omit<ImageDef, 'id'>> = {
  etcd: {
    tag: (v) => `v${v.etcd}`,
    base: 'scratch',
    binaries: ['etcd', 'etcdctl', 'etcdutl', 'k8s-img-probe'],
    main: 'etcd',
    versionCommand: ['etcd', '--version'],
    expectVersion: (v) => `etcd Version: ${v.etcd}`,
  },
  'kube-apiserver': kube('kube-apiserver'),
  'kube-controller-manager': kube('kube-controller-manager'),
  'kube-scheduler': kube('kube-scheduler'),
  kubelet: kube('kubelet', 'tools', ['cri-dockerd']),
  'kube-proxy': kube('kube-proxy', 'tools'),
  kubectl: {
    ...kube('kubectl'),
    versionCommand: ['kubectl', 'version', '--client'],
    expectVersion: (v) => `Client Version: v${v.kubernetes}`,
    extras: 'calico-manifests',
  },
  'calico-node': {
    tag: (v) => v.calico.release,
    base: 'tools',
    binaries: ['calico-node', ...CNI_PLUGINS],
    main: 'calico-node',
    versionCommand: ['calico-node', '-v'],
    expectVersion: (v) => v.calico.release,
  },
  'host-prep': {
    tag: k8s,
    base: 'tools',
    binaries: [],
    versionCommand: ['k8s-img-host-prep', '--version'],
    expectVersion: () => 'k8s-img host-prep',
  },
  coredns: {
    tag: (v) => `v${v.coredns}`,
    base: 'scratch',
    binaries: ['coredns'],
    main: 'coredns',
    versionCommand: ['coredns', '-version'],
    expectVersion: (v) => `CoreDNS-${v.coredns}`,
  },
  pause: {
    tag: (v) => v.pause,
    base: 'scratch',
    binaries: ['pause'],
    main: 'pause',
    versionCommand: ['/pause', '-v'],
    expectVersion: (v) => `pause.c v${v.pause}`,
  },
  workload: {
    tag: k8s,
    base: 'scratch',
    binaries: ['k8s-img-workload'],
    main: 'k8s-img-workload',
    versionCommand: ['k8s-img-workload', 'version'],
    expectVersion: () => 'k8s-img-workload',
  },
};

export function imageRef(prefix: string, id: ImageId, v: ComponentVersions): string {
  return `${prefix}/${id}:${IMAGES[id].tag(v)}`;
}
