// Rolling upgrades as a pure plan: whether a version change is allowed (upstream's
// version skew policy) and the order nodes are touched in. Upstream allows one minor
// at a time, never down; kube-apiservers first (etcd before them), the controller
// manager and scheduler never newer than an API server, kubelets and kube-proxy last.
import type { ResolvedConfig } from '../config/defaults.js';
import { SUPPORTED_RELEASES } from '../config/versions.js';
import { UsageError, type Problem } from '../errors.js';
import type { ClusterPlan } from './types.js';

export const CONTROL_PLANE_SERVICES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

const parse = (v: string) => {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new UsageError(`"${v}" is not a Kubernetes version`, 'give MAJOR.MINOR.PATCH, e.g. 1.37.2');
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
};

/** Why a version change is refused: the reason, and the fix for `upgrade --to` and for cluster.yaml. */
export interface Refusal {
  message: string;
  hint: string;
  configHint: string;
}

/** Refuses a downgrade, a skip of minors, an unsupported target or a no-op, saying why (undefined: allowed). */
export function upgradeRefusal(from: string, to: string, supported: readonly string[] = SUPPORTED_RELEASES.map((r) => r.kubernetes)): Refusal | undefined {
  const a = parse(from);
  const b = parse(to);
  if (!supported.includes(to.replace(/^v/, ''))) {
    const hint = `supported: ${supported.join(', ')} (k8s-img versions)`;
    return { message: `Kubernetes ${to} is not one k8s-img builds`, hint, configHint: hint };
  }
  const cmp = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (cmp === 0) return { message: `the cluster runs ${from} already`, hint: 'nothing to upgrade', configHint: 'nothing to upgrade' };
  if (cmp > 0) {
    return {
      message: `downgrade from ${from} to ${to} refused: upstream supports upgrades only (objects written by ${a.major}.${a.minor} API servers may use fields and storage versions ${b.major}.${b.minor} does not know)`,
      hint: 'to go back, restore the etcd snapshot the upgrade took first (k8s-img etcd snapshot list) on a cluster rebuilt at the old version',
      configHint: `set kubernetesVersion back to "${from}"; to go back to ${to}, restore the etcd snapshot the upgrade took first (k8s-img etcd snapshot list) on a cluster rebuilt at ${to}`,
    };
  }
  if (a.major !== b.major || b.minor - a.minor > 1) {
    const next = SUPPORTED_RELEASES.filter((r) => parse(r.kubernetes).major === a.major && parse(r.kubernetes).minor === a.minor + 1).map((r) => r.kubernetes)[0];
    return {
      message: `upgrade from ${from} to ${to} skips ${b.minor - a.minor - 1} minor version(s): upstream's version skew policy lets API servers differ by one minor, and each minor's storage migrations must run`,
      hint: next ? `upgrade one minor at a time: first --to ${next}` : 'upgrade one minor at a time',
      configHint: next ? `one minor at a time: set kubernetesVersion: "${next}" first and run again, then "${to}"` : 'upgrade one minor at a time',
    };
  }
  return undefined;
}

/** `upgrade --to`: refusals as usage errors. */
export function checkUpgrade(from: string, to: string, supported?: readonly string[]): void {
  const r = upgradeRefusal(from, to, supported);
  if (r) throw new UsageError(r.message, r.hint);
}

/** What `up`/`deploy` compare between runs: the resolved configuration without the version and the SSH logins (how machines are reached is not what runs on them). */
export function appliedConfig(c: ResolvedConfig): Record<string, unknown> {
  const { kubernetesVersion: _v, ssh: _s, nodes, ...rest } = c;
  return JSON.parse(JSON.stringify({ ...rest, nodes: nodes.map(({ ssh: _n, ...n }) => n) })) as Record<string, unknown>;
}

/** Paths (networking.calico.mtu, nodes[2]) where two configurations differ. */
export function configChanges(before: unknown, after: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length) return [path];
    return before.flatMap((b, i) => configChanges(b, after[i], `${path}[${i}]`));
  }
  if (isObj(before) && isObj(after) && !Array.isArray(before) && !Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => configChanges(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [path || '(root)'];
}

/** Where a running cluster stands when cluster.yaml is applied again. */
export interface VersionSituation {
  /** The version its nodes run (the deploy record); undefined when none does. */
  running: string | undefined;
  /** cluster.yaml's kubernetesVersion. */
  wanted: string;
  /** An upgrade that stopped before it finished (the progress file). */
  unfinished?: { from: string; to: string };
  /** What else changed since the last up or deploy (paths). */
  otherChanges: string[];
  /** How the user runs it again, for hints: `k8s-img up -c cluster.yaml`. */
  command: string;
}

export type VersionDecision = { kind: 'as-is' } | { kind: 'upgrade'; from: string; to: string } | { kind: 'refused'; problem: Problem };

const refused = (message: string, hint: string): VersionDecision => ({ kind: 'refused', problem: { path: 'kubernetesVersion', severity: 'error', message, hint } });

/**
 * `up`/`deploy` with a new kubernetesVersion: the rolling upgrade of `k8s-img upgrade`,
 * under the same refusals. An upgrade runs alone: with other edits in the same run,
 * they would reach nodes mid-upgrade (nodes added or removed under the skew policy),
 * so that is refused too, with the order to do it in.
 */
export function versionDecision(s: VersionSituation, supported?: readonly string[]): VersionDecision {
  if (s.unfinished && s.wanted !== s.unfinished.to) {
    return refused(
      `an upgrade from ${s.unfinished.from} to ${s.unfinished.to} stopped before it finished (some nodes run each version); it cannot turn to ${s.wanted}`,
      `set kubernetesVersion: "${s.unfinished.to}" and run \`${s.command}\` again: it resumes where it stopped`,
    );
  }
  const from = s.unfinished?.from ?? s.running;
  if (from === undefined || (!s.unfinished && from === s.wanted)) return { kind: 'as-is' };
  if (!s.unfinished) {
    const r = upgradeRefusal(from, s.wanted, supported);
    if (r) return refused(`the cluster runs ${from}: ${r.message}`, r.configHint);
  }
  if (s.otherChanges.length > 0) {
    const shown = s.otherChanges.length > 5 ? [...s.otherChanges.slice(0, 5), `${s.otherChanges.length - 5} more`] : s.otherChanges;
    return refused(
      `changes from ${from} to ${s.wanted} together with other edits (${shown.join(', ')}): an upgrade runs alone, so that no node is added, removed or reconfigured half-way through it`,
      `undo the other edits and run \`${s.command}\` for the upgrade, then make them in a run of their own (or make them first, with kubernetesVersion: "${from}")`,
    );
  }
  return { kind: 'upgrade', from, to: s.wanted };
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
