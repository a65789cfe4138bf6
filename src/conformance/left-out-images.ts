// The images `e2e.test --list-images` (v1.37.2) names that conformance/test-images.ts does not
// build, and why: no [Conformance] spec uses them. Pure data; the runner reports these reasons.

/** Image → why it is left out. */
export const LEFT_OUT: Record<string, string> = {
  'registry.k8s.io/e2e-test-images/busybox:1.36.1-1': 'only the CSI mock driver and DRA example manifests use it',
  'registry.k8s.io/e2e-test-images/resource-consumer:1.14': 'only autoscaling (HPA) specs use it',
  'registry.k8s.io/e2e-test-images/apparmor-loader:1.4': 'only AppArmor specs use it',
  'registry.k8s.io/e2e-test-images/ipc-utils:1.4': 'only host IPC specs use it',
  'registry.k8s.io/e2e-test-images/perl:5.26': 'no spec of this suite uses it',
  'registry.k8s.io/e2e-test-images/regression-issue-74839:1.5': 'only the conntrack regression spec uses it',
  'registry.k8s.io/e2e-test-images/sample-device-plugin:1.7': 'only device-plugin (node e2e) specs use it',
  'registry.k8s.io/e2e-test-images/node-perf/npb-ep:1.6.0': 'node performance benchmarks only',
  'registry.k8s.io/e2e-test-images/node-perf/npb-is:1.7.0': 'node performance benchmarks only',
  'registry.k8s.io/e2e-test-images/node-perf/pytorch-wide-deep:1.0.0': 'node performance benchmarks only',
  'registry.k8s.io/e2e-test-images/volume/nfs:1.6.0': 'only NFS storage specs use it',
  'registry.k8s.io/e2e-test-images/volume/iscsi:2.7': 'only iSCSI storage specs use it',
  'registry.k8s.io/build-image/distroless-iptables:v0.9.9': 'only kube-proxy specs outside [Conformance] use it',
  'registry.k8s.io/sig-storage/nfs-provisioner:v4.0.8': 'only NFS storage specs use it',
  'gcr.io/k8s-authenticated-test/agnhost:2.6': 'private-registry specs (GCE provider) only; upstream keeps it behind authentication',
  'invalid.registry.k8s.io/invalid/alpine:3.1': 'a name meant not to resolve (the "invalid registry" spec, not [Conformance])',
};

/** The CSI sidecars and drivers (registry.k8s.io/sig-storage/*, cloud-provider-gcp/*): storage driver specs only. */
export function leftOutReason(ref: string): string | undefined {
  if (LEFT_OUT[ref]) return LEFT_OUT[ref];
  if (/^registry\.k8s\.io\/(sig-storage|cloud-provider-gcp)\//.test(ref)) return 'CSI driver and sidecar images: only storage driver specs (outside [Conformance]) use them';
  return undefined;
}
