// Every name k8s-img gives to something on an engine: labels, Compose projects and
// container names, and local mode's node containers, network and volumes. Defined
// here once; pure.

export const LABEL = {
  managed: 'io.k8s-img.managed',
  cluster: 'io.k8s-img.cluster',
  node: 'io.k8s-img.node',
  role: 'io.k8s-img.role',
  component: 'io.k8s-img.component',
  /** Hash of the service's files: when they change, `docker compose up -d` recreates the service. */
  configHash: 'io.k8s-img.config-hash',
  /** Local mode's image store: which node image and component images it holds (providers/image-store.ts). */
  storeKey: 'io.k8s-img.store-key',
} as const;

/** Test suites mark what they start with this label (value: the cluster it belongs to, or "true"). */
export const TEST_LABEL = 'io.k8s-img.test';

/** Where a node keeps its bundle when k8s-img copies it there as root (as a user would). */
export const NODE_BUNDLE = '/opt/k8s-img/bundle';

export const names = {
  /** The Compose project of every node's stack. */
  project: (cluster: string) => `k8s-img-${cluster}`,
  /** A service's container on its node (compose `container_name`). */
  service: (service: string) => `k8s-img-${service}`,
  // Local mode: the node containers on this machine's engine.
  network: (cluster: string) => `k8s-img-${cluster}`,
  node: (cluster: string, node: string) => `k8s-img-${cluster}-${node}`,
  /** The one volume with every local node's /var and the image stores (providers/image-store.ts). */
  nodeStorage: 'k8s-img-nodes',
  /** A cluster's folder, or a node's /var, in the node storage volume. */
  nodeDir: (cluster: string, node?: string) => (node ? `clusters/${cluster}/${node}` : `clusters/${cluster}`),
};

export function clusterLabels(cluster: string): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.cluster]: cluster };
}

/**
 * Whether `down` of `cluster` must leave a container alone although it carries the
 * cluster's labels: it belongs to a test (e.g. started from an image that carried
 * the cluster label), unless the test label names this very cluster.
 */
export function spareOnDown(cluster: string): (labels: Record<string, string>) => boolean {
  return (labels) => labels[TEST_LABEL] !== undefined && labels[TEST_LABEL] !== cluster;
}
