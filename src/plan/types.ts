// The ClusterPlan: everything `generate`, `build`, `save` and `up` need to know,
// computed purely from the configuration. JSON-serialisable (`k8s-img plan --json`).
import type { Problem } from '../errors.js';
import type { Role, SecurityMode } from '../config/schema.js';
import type { ComponentVersions } from '../config/versions.js';
import type { PkiPlan } from './pki.js';

export const IMAGE_IDS = [
  'etcd',
  'etcd-snapshots',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'containerd',
  'kubelet',
  'kube-proxy',
  'calico-node',
  'calico-kube-controllers',
  'kubectl',
  'host-prep',
  'registry',
  'coredns',
  'pause',
  'workload',
  'api-lb',
] as const;
export type ImageId = (typeof IMAGE_IDS)[number];

export type ServiceName =
  | 'host-prep'
  | 'etcd'
  | 'etcd-snapshots'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'addons'
  | 'install-cni'
  | 'registry'
  | 'containerd'
  | 'kubelet'
  | 'kube-proxy'
  | 'calico-node'
  | 'calico-kube-controllers'
  | 'api-lb';

export interface PortPlan {
  port: number;
  protocol: 'tcp' | 'udp';
  bind: string; // address the port is bound to on the node
  purpose: string;
}

export interface VolumePlan {
  source: string; // host path, or ./relative to the node bundle
  target: string;
  readOnly: boolean;
  propagation?: 'rshared' | 'rslave';
}

export interface HealthPlan {
  /** The endpoint probed (shown by `status` when it fails). */
  url: string;
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface PrivilegesPlan {
  privileged: boolean;
  pidHost: boolean;
  /** uid:gid the service runs as, when not the image's user. */
  user?: string;
  capDrop: string[];
  readOnlyRootfs: boolean;
  noNewPrivileges: boolean;
  tmpfs: string[];
}

/** A file in the node bundle, under `<service>/` unless `path` says otherwise. */
export type FileSpec =
  | { path: string; mode: number; template: string; data: Record<string, unknown> }
  | { path: string; mode: number; secret: string };

export interface ServicePlan {
  name: ServiceName;
  /** One line on what the service does (shown in compose.yaml's header). */
  summary: string;
  image: string;
  imageId: ImageId;
  oneshot: boolean;
  entrypoint?: string[];
  command: string[];
  environment: Record<string, string>;
  ports: PortPlan[];
  volumes: VolumePlan[];
  privileges: PrivilegesPlan;
  health?: HealthPlan;
  dependsOn: { service: ServiceName; condition: 'service_healthy' | 'service_completed_successfully' | 'service_started' }[];
  restart: 'always' | 'on-failure' | 'no';
  files: FileSpec[];
}

export interface NodePlan {
  name: string;
  address: string;
  roles: Role[];
  services: ServicePlan[];
  /** Images this node's Docker engine must hold (`docker load`): its Compose services'. */
  images: ImageId[];
}

export interface ClusterPlan {
  cluster: string;
  mode: SecurityMode;
  versions: ComponentVersions;
  networking: {
    podCIDR: string;
    serviceCIDR: string;
    kubernetesServiceIP: string;
    clusterDNS: string;
    dnsDomain: string;
    nodePortRange: string;
    calicoBackend: string;
    mtu: number;
    /** The AS of every node's BIRD (bgp backend). */
    asNumber: number;
  };
  /** url: the first control plane (admin kubeconfig); nodeEndpoint: every node's api-lb, over all `addresses`. */
  apiServer: { url: string; nodeEndpoint: string; addresses: string[] };
  etcd: { members: { name: string; address: string }[]; endpoints: string[] };
  /**
   * The cluster's registry: a read-only copy on every control-plane node, the only place
   * containerd pulls pod images from (for every registry name).
   */
  registry: { nodes: string[]; endpoints: string[]; images: ImageId[] };
  images: Record<ImageId, string>;
  nodes: NodePlan[];
  /** Secrets the bundles reference; the effect layer must supply them to render. */
  secrets: string[];
  /** Certificates to issue (secure mode). */
  pki?: PkiPlan;
  warnings: Problem[];
}
