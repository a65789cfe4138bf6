// The image table: what goes into each image, where, and how it is tagged.
// Pure data; pipeline/build.ts turns it into `docker build` calls.
import type { ComponentVersions } from '../config/versions.js';
import type { ImageId } from './types.js';

/** Artifacts produced by `k8s-img fetch` (see fetch/recipes.ts for where each comes from). */
export type BinaryName =
  | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet' | 'kube-proxy' | 'kubectl'
  | 'etcd' | 'etcdctl' | 'etcdutl'
  | 'containerd' | 'containerd-shim-runc-v2' | 'ctr' | 'runc'
  | 'registry'
  | 'calico-node' | 'calico' | 'calicoctl' | 'calico-kube-controllers' | 'check-status' | 'calico-crds.yaml'
  | 'loopback' | 'portmap' | 'bandwidth' | 'host-local'
  | 'coredns'
  | 'pause'
  | 'k8s-img-probe'
  | 'k8s-img-workload'
  | 'k8s-img-api-lb'
  // `k8s-img cis` only: kube-bench and the benchmark's control files it runs.
  | 'kube-bench'
  | 'jq'
  | `cis-${'master' | 'controlplane' | 'etcd' | 'node' | 'policies'}.yaml`;

/** One entry of an image's filesystem: a fetched artifact, a script or data file from images/<id>/, or a symlink. */
export type LayoutEntry =
  | { artifact: BinaryName; to: string }
  | { script: string; to: string; /** images/<dir>/ when shared with other images */ dir?: string }
  | { file: string; to: string }
  | { link: string; to: string };

export interface ImageDef {
  /** The tag: the upstream version of what the image wraps. */
  tag: (v: ComponentVersions) => string;
  /** scratch: static binaries only; tools: the Debian userland (iptables, mount, ...). */
  base: 'scratch' | 'tools';
  /** scratch images get CA certificates and a user table, unless bare (pause needs neither). */
  bare?: boolean;
  layout: LayoutEntry[];
  user: string;
  entrypoint: string[];
  cmd?: string[];
  /** The artifacts whose combined size the image is compared with (benchmark). */
  wraps: BinaryName[];
  /** A command that prints the version (run with the entrypoint replaced). */
  versionCommand: string[];
  expectVersion: (v: ComponentVersions) => string;
  description: string;
}

const BIN = '/usr/local/bin';
const bin = (...names: BinaryName[]): LayoutEntry[] => names.map((n) => ({ artifact: n, to: `${BIN}/${n}` }));
const script = (name: string, dir?: string): LayoutEntry => ({ script: name, to: `${BIN}/${name}`, ...(dir ? { dir } : {}) });
/** Runs containerd and the kubelet in the node's mount namespace (images/host-agent). */
const hostAgent = script('k8s-img-host-agent', 'host-agent');
const cni = (...names: BinaryName[]): LayoutEntry[] => names.map((n) => ({ artifact: n, to: `/opt/cni/bin/${n}` }));
/** confd's configuration: k8s-img's BIRD templates (images/calico-node/confd/), where calico-node -confd reads them. */
const CONFD = '/etc/calico/confd';
const confd = (...files: string[]): LayoutEntry[] => files.map((f) => ({ file: `confd/${f}`, to: `${CONFD}/${f}` }));

const k8s = (v: ComponentVersions) => `v${v.kubernetes}`;
const kube = (main: BinaryName, description: string): ImageDef => ({
  tag: k8s,
  base: 'scratch',
  layout: bin(main, 'k8s-img-probe'),
  user: '0',
  entrypoint: [`${BIN}/${main}`],
  wraps: [main],
  versionCommand: [`${BIN}/${main}`, '--version'],
  expectVersion: (v) => `Kubernetes v${v.kubernetes}`,
  description,
});

export const IMAGES: Record<ImageId, ImageDef> = {
  etcd: {
    tag: (v) => `v${v.etcd}`,
    base: 'scratch',
    layout: bin('etcd', 'etcdctl', 'etcdutl', 'k8s-img-probe'),
    user: '0',
    entrypoint: [`${BIN}/etcd`],
    wraps: ['etcd', 'etcdctl', 'etcdutl'],
    versionCommand: [`${BIN}/etcd`, '--version'],
    expectVersion: (v) => `etcd Version: ${v.etcd}`,
    description: 'etcd with etcdctl and etcdutl',
  },
  // Periodic snapshots (etcd.snapshots): a loop in the shell of the tools base around etcdctl.
  'etcd-snapshots': {
    tag: (v) => `v${v.etcd}`,
    base: 'tools',
    layout: [...bin('etcdctl'), script('k8s-img-etcd-snapshots')],
    user: '0',
    entrypoint: [`${BIN}/k8s-img-etcd-snapshots`],
    wraps: ['etcdctl'],
    versionCommand: [`${BIN}/etcdctl`, 'version'],
    expectVersion: (v) => `etcdctl version: ${v.etcd}`,
    description: 'periodic etcd snapshots on a member: etcdctl, sha256 and a retention count',
  },
  'kube-apiserver': kube('kube-apiserver', 'the Kubernetes API server'),
  'kube-controller-manager': kube('kube-controller-manager', 'the Kubernetes controller manager'),
  'kube-scheduler': kube('kube-scheduler', 'the Kubernetes scheduler'),
  kubelet: {
    tag: k8s,
    base: 'tools',
    layout: [...bin('kubelet', 'k8s-img-probe'), hostAgent],
    user: '0',
    entrypoint: [`${BIN}/k8s-img-host-agent`],
    wraps: ['kubelet'],
    versionCommand: [`${BIN}/kubelet`, '--version'],
    expectVersion: (v) => `Kubernetes v${v.kubernetes}`,
    description: 'the kubelet, run in the node\'s mount namespace',
  },
  containerd: {
    tag: (v) => `v${v.containerd}`,
    base: 'tools',
    layout: [...bin('containerd', 'containerd-shim-runc-v2', 'ctr', 'runc'), hostAgent],
    user: '0',
    entrypoint: [`${BIN}/k8s-img-host-agent`],
    wraps: ['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc'],
    versionCommand: [`${BIN}/containerd`, '--version'],
    expectVersion: (v) => `containerd github.com/containerd/containerd v${v.containerd}`,
    description: `containerd with runc: the pods' runtime, run in the node's mount namespace`,
  },
  registry: {
    tag: (v) => `v${v.registry}`,
    base: 'scratch',
    layout: bin('registry', 'k8s-img-probe'),
    user: '0',
    entrypoint: [`${BIN}/registry`],
    cmd: ['serve', '/etc/kubernetes/config.yml'],
    wraps: ['registry'],
    versionCommand: [`${BIN}/registry`, '--version'],
    expectVersion: (v) => `v${v.registry}`,
    description: 'the distribution registry that serves the cluster its own images',
  },
  'kube-proxy': {
    tag: k8s,
    base: 'tools',
    layout: [...bin('kube-proxy', 'k8s-img-probe'), script('k8s-img-kube-proxy')],
    user: '0',
    entrypoint: [`${BIN}/k8s-img-kube-proxy`],
    wraps: ['kube-proxy'],
    versionCommand: [`${BIN}/kube-proxy`, '--version'],
    expectVersion: (v) => `Kubernetes v${v.kubernetes}`,
    description: 'kube-proxy (iptables mode)',
  },
  kubectl: {
    tag: k8s,
    base: 'scratch',
    layout: [...bin('kubectl'), { artifact: 'calico-crds.yaml', to: '/usr/share/k8s-img/manifests/calico-crds.yaml' }],
    user: '0',
    entrypoint: [`${BIN}/kubectl`],
    wraps: ['kubectl'],
    versionCommand: [`${BIN}/kubectl`, 'version', '--client'],
    expectVersion: (v) => `Client Version: v${v.kubernetes}`,
    description: 'kubectl and the add-on manifests that come from upstream (Calico CRDs)',
  },
  'calico-node': {
    tag: (v) => v.calico.release,
    base: 'tools',
    layout: [
      ...bin('calico-node', 'calicoctl'),
      ...cni('calico', 'loopback', 'portmap', 'bandwidth', 'host-local'),
      // One binary, two roles: it picks its role from argv[0].
      { link: 'calico', to: '/opt/cni/bin/calico-ipam' },
      script('k8s-img-calico-node'),
      script('k8s-img-install-cni'),
      // calico-node -bird-live asks runit's `sv` whether confd and BIRD run: k8s-img-calico-node supervises them.
      script('sv'),
      // BIRD with Debian's client, under the name calico-node's liveness check runs.
      { link: '/usr/sbin/birdc', to: '/usr/bin/birdcl' },
      ...confd('conf.d/bird.toml', 'conf.d/bird-aggr.toml', 'conf.d/bird-ipam.toml', 'templates/bird.cfg.template', 'templates/bird_aggr.cfg.template', 'templates/bird_ipam.cfg.template'),
    ],
    user: '0',
    entrypoint: [`${BIN}/k8s-img-calico-node`],
    wraps: ['calico-node', 'calicoctl', 'calico', 'loopback', 'portmap', 'bandwidth', 'host-local'],
    versionCommand: [`${BIN}/calico-node`, '-v'],
    expectVersion: (v) => v.calico.release,
    description: 'calico-node (felix; VXLAN, or confd + BIRD for BGP), calicoctl and the CNI plugins it installs',
  },
  'calico-kube-controllers': {
    tag: (v) => v.calico.release,
    base: 'scratch',
    layout: bin('calico-kube-controllers', 'check-status'),
    // Root without capabilities (as every Compose service here): it reads its 0600 kubeconfig from the bundle.
    user: '0',
    entrypoint: [`${BIN}/calico-kube-controllers`],
    wraps: ['calico-kube-controllers', 'check-status'],
    versionCommand: [`${BIN}/calico-kube-controllers`, '--version'],
    expectVersion: (v) => v.calico.release,
    description: 'calico-kube-controllers: frees the IP blocks of deleted nodes',
  },
  'host-prep': {
    tag: k8s,
    base: 'tools',
    layout: [script('k8s-img-host-prep')],
    user: '0',
    entrypoint: [`${BIN}/k8s-img-host-prep`],
    wraps: [],
    versionCommand: [`${BIN}/k8s-img-host-prep`, '--version'],
    expectVersion: () => 'k8s-img host-prep',
    description: 'one-shot host preparation (FORWARD policy, sysctls, shared mounts)',
  },
  coredns: {
    tag: (v) => `v${v.coredns}`,
    base: 'scratch',
    layout: bin('coredns'),
    user: '65532',
    entrypoint: [`${BIN}/coredns`],
    wraps: ['coredns'],
    versionCommand: [`${BIN}/coredns`, '-version'],
    expectVersion: (v) => `CoreDNS-${v.coredns}`,
    description: 'CoreDNS, the cluster DNS',
  },
  pause: {
    tag: (v) => v.pause,
    base: 'scratch',
    bare: true,
    layout: [{ artifact: 'pause', to: '/pause' }],
    user: '65535',
    entrypoint: ['/pause'],
    wraps: ['pause'],
    versionCommand: ['/pause', '-v'],
    expectVersion: (v) => `pause.c v${v.pause}`,
    description: 'the pod sandbox',
  },
  'api-lb': {
    tag: k8s,
    base: 'scratch',
    layout: bin('k8s-img-api-lb', 'k8s-img-probe'),
    user: '65532',
    entrypoint: [`${BIN}/k8s-img-api-lb`],
    wraps: ['k8s-img-api-lb'],
    versionCommand: [`${BIN}/k8s-img-api-lb`, '-version'],
    expectVersion: () => 'k8s-img-api-lb',
    description: 'the node-local Kubernetes API endpoint: a TCP load balancer over every control plane',
  },
  workload: {
    tag: k8s,
    base: 'scratch',
    layout: bin('k8s-img-workload'),
    user: '65532',
    entrypoint: [`${BIN}/k8s-img-workload`],
    cmd: ['serve'],
    wraps: ['k8s-img-workload'],
    versionCommand: [`${BIN}/k8s-img-workload`, 'version'],
    expectVersion: () => 'k8s-img-workload',
    description: 'the test workload `k8s-img verify` runs (HTTP, UDP echo, DNS lookups)',
  },
};

export function imageRef(prefix: string, id: ImageId, v: ComponentVersions): string {
  return `${prefix}/${id}:${IMAGES[id].tag(v)}`;
}
