// Rolling upgrades as a pure plan: whether a version change is allowed (upstream's
// version skew policy) and the order nodes are touched in. Upstream allows one minor
// at a time, never down; kube-apiservers first (etcd before them), the controller
// manager and scheduler never newer than an API server, kubelets and kube-proxy last.
import { SUPPORTED_RELEASES } from '../config/versions.js';
import { UsageError } from '../errors.js';
import type { ClusterPlan } from './types.js';

export const CONTROL_PLANE_SERVICES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

const parse = (v: string) => {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new UsageError(`"${v}" is not a Kubernetes version`, 'give MAJOR.MINOR.PATCH, e.g. 1.37.2');
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
};

/** Refuses a downgrade, a skip of minors, an unsupported target or a no-op, saying why. */
export function checkUpgrade(from: string, to: string, supported: readonly string[] = SUPPORTED_RELEASES.map((r) => r.kubernetes)): void {
  const a = parse(from);
  const b = parse(to);
  if (!supported.includes(to.replace(/^v/, ''))) {
    throw new UsageError(`Kubernetes ${to} is not one k8s-img builds`, `supported: ${supported.join(', ')} (k8s-img versions)`);
  }
  const cmp = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (cmp === 0) throw new UsageError(`the cluster runs ${from} already`, 'nothing to upgrade');
  if (cmp > 0) {
    throw new UsageError(
      `downgrade from ${from} to ${to} refused: upstream supports upgrades only (objects written by ${a.major}.${a.minor} API servers may use fields and storage versions ${b.major}.${b.minor} does not know)`,
      'to go back, restore the etcd snapshot the upgrade took first (k8s-img etcd snapshot list) on a cluster rebuilt at the old version',
    );
  }
  if (a.major !== b.major || b.minor - a.minor > 1) {
    const next = SUPPORTED_RELEASES.filter((r) => parse(r.kubernetes).major === a.major && parse(r.kubernetes).minor === a.minor + 1).map((r) => r.kubernetes);
    throw new UsageError(
      `upgrade from ${from} to ${to} skips ${b.minor - a.minor - 1} minor version(s): upstream's version skew policy lets API servers differ by one minor, and each minor's storage migrations must run`,
      next.length ? `upgrade one minor at a time: first --to ${next[0]}` : 'upgrade one minor at a time',
    );
  }
}

export type UpgradeStep =
  | { id: string; kind: 'snapshot' }
  | { id: string; kind: 'etcd'; node: string; services: string[] }
  | { id: string; kind: 'control-plane'; node: string; services: string[] }
  /** `services`: per node, what `docker compose up -d --no-deps` recreates (the control-plane services are done). */
  | { id: string; kind: 'nodes'; nodes: string[]; drain: boolean; services: Record<string, string[]> };

/**
 * The order: a snapshot; etcd members one at a time (quorum kept); control planes one
 * at a time (only their control-plane services, so no kubelet is ever newer than an API
 * server); then every node's whole stack — control planes one at a time, workers in
 * batches of `batch`, drained first.
 */
export function upgradeOrder(plan: ClusterPlan, batch = 1): UpgradeStep[] {
  const steps: UpgradeStep[] = [{ id: 'snapshot', kind: 'snapshot' }];
  for (const m of plan.etcd.members) steps.push({ id: `etcd/${m.name}`, kind: 'etcd', node: m.name, services: ['etcd'] });
  const cps = plan.nodes.filter((n) => n.roles.includes('control-plane'));
  for (const n of cps) {
    steps.push({ id: `control-plane/${n.name}`, kind: 'control-plane', node: n.name, services: n.services.filter((s) => CONTROL_PLANE_SERVICES.includes(s.name)).map((s) => s.name) });
  }
  // Only the rest of each stack, with --no-deps: host-prep's new image must not drag the
  // API server and etcd (its dependents, upgraded already) into a second restart.
  const rest = (names: string[]) =>
    Object.fromEntries(names.map((name) => [name, plan.nodes.find((n) => n.name === name)!.services.map((s) => s.name).filter((s) => !CONTROL_PLANE_SERVICES.includes(s) && s !== 'etcd')]));
  // Control planes that run pods are drained like workers.
  for (const n of cps) steps.push({ id: `node/${n.name}`, kind: 'nodes', nodes: [n.name], drain: n.roles.includes('worker'), services: rest([n.name]) });
  const workers = plan.nodes.filter((n) => !n.roles.includes('control-plane')).map((n) => n.name);
  for (let i = 0; i < workers.length; i += Math.max(1, batch)) {
    const group = workers.slice(i, i + Math.max(1, batch));
    steps.push({ id: `node/${group.join(',')}`, kind: 'nodes', nodes: group, drain: true, services: rest(group) });
  }
  return steps;
}
