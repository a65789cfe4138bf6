// The conformance specs CI runs every time: [Conformance] specs of v1.37, none [Slow],
// [Serial] or [Disruptive], chosen to cover what breaks when a runtime, a network
// or a registry is wrong. The full suite runs with `k8s-img conformance` (npm run
// test:long). Upstream has no [Conformance] spec for `kubectl port-forward`.
// Pure data; names are matched exactly (the integration test checks each matched one spec).

export const CI_SUBSET: readonly { area: string; specs: readonly string[] }[] = [
  {
    area: 'exec, attach, logs, ephemeral containers',
    specs: [
      '[sig-node] Pods should support remote command execution over websockets',
      '[sig-node] Pods should support retrieving logs from the container over websockets',
      '[sig-node] Ephemeral Containers will start an ephemeral container in an existing pod',
      '[sig-node] Container Lifecycle Hook when create a pod with lifecycle hook should execute poststart exec hook properly',
      '[sig-cli] Kubectl logs logs should be able to retrieve and filter logs',
      '[sig-cli] Kubectl client Kubectl run pod should create a pod from an image when restart is Never',
      '[sig-cli] Kubectl client Proxy server should support --unix-socket=/path',
    ],
  },
  {
    area: 'Services, NodePort, session affinity, host ports, pod networking',
    specs: [
      '[sig-network] Services should be able to create a functioning NodePort service',
      '[sig-network] Services should have session affinity work for NodePort service',
      '[sig-network] Services should have session affinity work for service with type clusterIP',
      '[sig-network] Services should serve multiport endpoints from pods',
      '[sig-network] Services should serve endpoints on same port and different protocols',
      '[sig-network] Services should be able to change the type from ExternalName to NodePort',
      '[sig-network] EndpointSlice should support a Service with multiple ports specified in multiple EndpointSlices',
      '[sig-network] HostPort validates that there is no conflict between pods with same hostPort but different hostIP and protocol',
      '[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http',
      '[sig-network] Networking Granular Checks: Pods should function for node-pod communication: udp',
    ],
  },
  {
    area: 'DNS',
    specs: [
      '[sig-network] DNS should provide DNS for the cluster',
      '[sig-network] DNS should provide DNS for services',
      '[sig-network] DNS should resolve DNS of partial qualified names for services',
      '[sig-network] DNS should provide /etc/hosts entries for the cluster',
      '[sig-network] DNS should support configurable pod DNS nameservers',
    ],
  },
  {
    area: 'EmptyDir, subPath',
    specs: [
      '[sig-storage] EmptyDir volumes should support (root,0644,default)',
      '[sig-storage] Subpath Atomic writer volumes should support subpaths with configmap pod',
      '[sig-storage] Subpath Atomic writer volumes should support subpaths with secret pod',
      '[sig-node] Variable Expansion should allow substituting values in a volume subpath',
    ],
  },
  {
    area: 'ServiceAccount tokens',
    specs: [
      '[sig-auth] ServiceAccounts should mount an API token into pods',
      '[sig-auth] ServiceAccounts should mount projected service account token',
      '[sig-auth] ServiceAccounts should create a serviceAccountToken and ensure a successful TokenReview',
      '[sig-auth] ServiceAccounts ServiceAccountIssuerDiscovery should support OIDC discovery of service account issuer',
    ],
  },
  {
    area: 'environment from ConfigMaps, Secrets and the downward API',
    specs: [
      '[sig-node] ConfigMap should be consumable via environment variable',
      '[sig-node] ConfigMap should be consumable as environment variable names with various prefixes',
      '[sig-node] Secrets should be consumable from pods in env vars',
      '[sig-node] Secrets should be consumable as environment variable names variable names with various prefixes',
      '[sig-node] Downward API should provide pod name, namespace and IP address as env vars',
    ],
  },
  {
    area: 'workloads: StatefulSet, Deployment, init containers',
    specs: [
      '[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should have a working scale subresource',
      '[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should list, patch and delete a collection of StatefulSets',
      '[sig-apps] Deployment deployment should support rollover',
      '[sig-node] InitContainer should invoke init containers on a RestartAlways pod',
    ],
  },
  {
    area: 'probes',
    specs: [
      '[sig-node] Probing container should be restarted with a exec "cat /tmp/health" liveness probe',
      '[sig-node] Probing container should be restarted with a /healthz http liveness probe',
    ],
  },
  {
    area: 'security context',
    specs: [
      '[sig-node] Security Context When creating a container with runAsUser should run the container with uid 65534',
      '[sig-node] Security Context should support pod.Spec.SecurityContext.RunAsUser And pod.Spec.SecurityContext.RunAsGroup',
      '[sig-node] Security Context when creating containers with AllowPrivilegeEscalation should not allow privilege escalation when false',
      '[sig-storage] Secrets should be consumable from pods in volume as non-root with defaultMode and fsGroup set',
    ],
  },
  {
    area: 'pulls with policy Always, image volumes, an aggregated API server',
    specs: [
      '[sig-node] ImageVolume should succeed with pod and pull policy of Always',
      '[sig-api-machinery] Aggregator Should be able to support the 1.17 Sample API Server using the current Aggregator',
    ],
  },
];

export const CI_SUBSET_SPECS: readonly string[] = CI_SUBSET.flatMap((a) => a.specs);

/**
 * The test images those specs pull (read off the cluster registry's access log of a run):
 * `--quick` builds only these. A spec that needed another would fail on its pull.
 */
export const CI_SUBSET_IMAGES: readonly string[] = [
  'registry.k8s.io/e2e-test-images/agnhost:2.66.1',
  'registry.k8s.io/e2e-test-images/agnhost:2.55',
  'registry.k8s.io/e2e-test-images/busybox:1.37.0-2',
  'registry.k8s.io/e2e-test-images/glibc-dns-testing:2.1.1',
  'registry.k8s.io/e2e-test-images/kitten:1.8',
  'registry.k8s.io/e2e-test-images/nonewprivs:1.4',
  'registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2',
  'registry.k8s.io/etcd:3.7.0-0',
  'registry.k8s.io/pause:3.10.2',
];

const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/**
 * A ginkgo --focus expression for exactly these specs: each name followed by tags up to
 * [Conformance], so that a name is never taken for the start of a longer one, nor for a
 * provider-specific twin of the spec.
 */
export function focusFor(specs: readonly string[]): string {
  return specs.map((s) => `${escape(s)}( \\[[^\\]]*\\])* \\[Conformance\\]`).join('|');
}
