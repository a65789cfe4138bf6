// What `k8s-img cis` runs on each node: which kube-bench targets (by the node's
// roles), the configuration that points kube-bench at k8s-img's real files, and the
// checks whose kubeadm paths cannot exist here — each listed with the k8s-img file
// checked instead, or with why it does not apply on this node. Pure.
import { ETCD_DATA, agentConf } from './components.js';
import type { ClusterPlan, NodePlan } from './types.js';

/**
 * kube-bench, built from the Go module proxy (fetch/recipes.ts). v0.16.0 is not in the
 * checksum database; v0.15.1 is, and carries the same cis-1.12 definitions (the newest
 * benchmark, which kube-bench applies to Kubernetes 1.32 and later).
 */
export const KUBE_BENCH = {
  version: '0.15.1',
  /** The module zip's hash in the checksum database (go.sum's h1:), checked on every download. */
  sum: 'h1:1+b9k6gHN45NuyU7PsW16tSQ0kyNx6O3Q/JXcriuiow=',
  benchmark: 'cis-1.12',
} as const;
/**
 * jq for the policies checks' commands (kube-bench's image carries it; nodes need not):
 * gojq, a Go implementation, built from the Go module proxy like kube-bench (0.12.18 and
 * later need a go-yaml pseudo-version the proxy does not serve).
 */
export const GOJQ = { version: '0.12.17', sum: 'h1:8av8eGduDb5+rvEdaOO+zQUjA04MS0m3Ps8HiD+fceg=' } as const;
export const CIS_TARGETS = ['master', 'controlplane', 'etcd', 'node', 'policies'] as const;
export type CisTarget = (typeof CIS_TARGETS)[number];

/** One kube-bench invocation on a node. */
export interface CisRun {
  target: CisTarget;
  /** Only these checks (kube-bench --check): the etcd files of `master` on an etcd member without a control plane. */
  only?: string[];
  /** Checks that cannot apply on this node: kube-bench skips them, the report lists them with the reason. */
  notApplicable: { id: string; reason: string }[];
}

/** A change to one check's commands (kube-bench's control files), `from` → `to`. */
export interface CisEdit {
  field: 'audit' | 'audit_config';
  from: string;
  to: string;
}

/**
 * Checks written for kubeadm's layout (or for kube-bench's own image), and what k8s-img
 * checks in their place.
 */
export interface CisEquivalent {
  target: CisTarget;
  ids: string[];
  /** What the check looks at, as kube-bench's definition is written. */
  written: string;
  /** What k8s-img has in its place, checked instead. */
  instead: string;
  /** Absent when kube-bench's own path variables (the configuration) point at the equivalent. */
  edits?: CisEdit[];
}

/** A check k8s-img derives from an upstream one for a file kubeadm does not have (etcd's own keys). */
export interface CisVariant {
  target: CisTarget;
  id: string;
  of: string;
  text: string;
  audit: string;
  /** The upstream test's expected value → this one's. */
  expect: [string, string];
}

export interface CisNodePlan {
  node: string;
  roles: string[];
  runs: CisRun[];
  /** kube-bench's config.yaml for this node (as an object; render/cis.ts writes it). */
  config: Record<string, unknown>;
  equivalents: CisEquivalent[];
  variants: CisVariant[];
}

const has = (n: NodePlan, role: string) => n.roles.includes(role as never);
const etcdFileChecks = ['1.1.7', '1.1.8', '1.1.11', '1.1.12'];
const adminChecks = ['1.1.13', '1.1.14'];
const ETCD_KEYS_CHECK = '1.1.19-etcd';

/** The folders of certificates and keys on a node: each service's pki/ in the bundle and the host agents' copies. */
function pkiDirs(node: NodePlan, bundle: string): { service: string; dir: string }[] {
  const out: { service: string; dir: string }[] = [];
  for (const s of node.services) {
    if (!s.files.some((f) => f.path.startsWith('pki/'))) continue;
    out.push({ service: s.name, dir: `${bundle}/${s.name}/pki` });
    // containerd and the kubelet run from a copy of their folder (images/host-agent).
    if (s.environment.K8S_IMG_AGENT_BINARIES) out.push({ service: s.name, dir: `${agentConf(s.name)}/pki` });
  }
  return out;
}

/** kube-bench's configuration: every component and file where k8s-img puts it. */
function kubeBenchConfig(node: NodePlan, bundle: string): Record<string, unknown> {
  const compose = `${bundle}/compose.yaml`;
  const kubelet = agentConf('kubelet');
  const file = (kind: 'confs' | 'kubeconfig' | 'svc' | 'cafile' | 'datadirs', path: string) => {
    const def = { confs: 'defaultconf', kubeconfig: 'defaultkubeconfig', svc: 'defaultsvc', cafile: 'defaultcafile', datadirs: 'defaultdatadir' }[kind];
    return { [kind]: [path], [def]: path };
  };
  // The static-pod manifests of kubeadm hold each component's flags; compose.yaml holds them here.
  const etcd = { bins: ['etcd'], ...file('confs', compose), ...file('datadirs', ETCD_DATA) };
  // kube-bench substitutes no program name at all when a required one is not running:
  // on an etcd member without a control plane, only etcd is required.
  const optional = !has(node, 'control-plane');
  return {
    master: {
      components: ['apiserver', 'scheduler', 'controllermanager', 'etcd', 'kubelet'],
      apiserver: { optional, bins: ['kube-apiserver'], ...file('confs', compose) },
      scheduler: { optional, bins: ['kube-scheduler'], ...file('confs', compose), ...file('kubeconfig', `${bundle}/kube-scheduler/kubeconfig`) },
      // ps shows at most 15 characters of a command's name: "kube-controller".
      controllermanager: { optional, bins: ['kube-controller-manager', 'kube-controller'], ...file('confs', compose), ...file('kubeconfig', `${bundle}/kube-controller-manager/kubeconfig`) },
      etcd: { ...etcd, optional: !has(node, 'etcd') },
      kubelet: { optional: true, bins: ['kubelet'] },
    },
    node: {
      components: ['kubelet', 'proxy'],
      kubelet: {
        bins: ['kubelet'],
        ...file('confs', `${kubelet}/kubelet.yaml`),
        ...file('svc', compose),
        ...file('kubeconfig', `${kubelet}/kubeconfig`),
        ...file('cafile', `${kubelet}/pki/ca.crt`),
      },
      proxy: { bins: ['kube-proxy'], ...file('confs', `${bundle}/kube-proxy/config.yaml`), ...file('svc', compose), ...file('kubeconfig', `${bundle}/kube-proxy/kubeconfig`) },
    },
    etcd: { components: ['etcd'], etcd },
    controlplane: { components: ['apiserver'], apiserver: { bins: ['kube-apiserver'] } },
    policies: { components: [] },
    target_mapping: { [KUBE_BENCH.benchmark]: [...CIS_TARGETS] },
  };
}

function equivalents(node: NodePlan, bundle: string, variants: CisVariant[]): CisEquivalent[] {
  const compose = `${bundle}/compose.yaml`;
  const kubelet = agentConf('kubelet');
  const pki = pkiDirs(node, bundle);
  const rootPki = pki.filter((p) => p.service !== 'etcd').map((p) => p.dir);
  const manifest = (ids: string[], component: string): CisEquivalent => ({
    target: 'master',
    ids,
    written: `/etc/kubernetes/manifests/${component}.yaml (the static pod that carries its flags)`,
    instead: `${compose} (every service's flags, as Compose runs them)`,
  });
  return [
    manifest(['1.1.1', '1.1.2'], 'kube-apiserver'),
    manifest(['1.1.3', '1.1.4'], 'kube-controller-manager'),
    manifest(['1.1.5', '1.1.6'], 'kube-scheduler'),
    {
      ...manifest(['1.1.7', '1.1.8'], 'etcd'),
      // kube-bench looks for files named after etcd in the manifest folder.
      edits: [{ field: 'audit', from: "find $etcdconf -name '*etcd*'", to: 'find $etcdconf' }],
    },
    {
      target: 'master',
      ids: ['1.1.9', '1.1.10'],
      written: "the kubelet's --cni-conf-dir",
      instead: "/etc/cni/net.d (containerd's CNI configuration; the kubelet has none)",
      edits: [{ field: 'audit', from: "ps -ef | grep $kubeletbin | grep -- --cni-conf-dir | sed 's%.*cni-conf-dir[= ]\\([^ ]*\\).*%\\1%' | xargs -I{} find {}", to: 'find /etc/cni/net.d' }],
    },
    {
      target: 'master',
      ids: adminChecks,
      written: '/etc/kubernetes/admin.conf and super-admin.conf',
      instead: `${bundle}/addons/kubeconfig (the admin kubeconfig the addons service applies manifests with)`,
      edits: [{ field: 'audit', from: '/etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf', to: `${bundle}/addons/kubeconfig` }],
    },
    { target: 'master', ids: ['1.1.15', '1.1.16'], written: '/etc/kubernetes/scheduler.conf', instead: `${bundle}/kube-scheduler/kubeconfig` },
    { target: 'master', ids: ['1.1.17', '1.1.18'], written: '/etc/kubernetes/controller-manager.conf', instead: `${bundle}/kube-controller-manager/kubeconfig` },
    {
      target: 'master',
      ids: ['1.1.19'],
      written: '/etc/kubernetes/pki/',
      instead: `${rootPki.join(' ')}${variants.some((v) => v.id === ETCD_KEYS_CHECK) ? ` (etcd's keys belong to the etcd user: ${ETCD_KEYS_CHECK})` : ''}`,
      edits: [{ field: 'audit', from: '/etc/kubernetes/pki/', to: rootPki.join(' ') }],
    },
    {
      target: 'master',
      ids: ['1.1.20', '1.1.21'],
      written: '/etc/kubernetes/pki/',
      instead: pki.map((p) => p.dir).join(' '),
      edits: [{ field: 'audit', from: '/etc/kubernetes/pki/', to: pki.map((p) => p.dir).join(' ') }],
    },
    {
      target: 'master',
      ids: ['1.2.28'],
      written: "the apiserver's --encryption-provider-config, as a path on the machine",
      instead: `the same file seen from the node: ${bundle}/kube-apiserver/ is the apiserver's /etc/kubernetes/`,
      edits: [
        {
          field: 'audit',
          from: 'if test -e $ENCRYPTION_PROVIDER_CONFIG;',
          to: `ENCRYPTION_PROVIDER_CONFIG=$(echo "$ENCRYPTION_PROVIDER_CONFIG" | sed 's%^/etc/kubernetes/%${bundle}/kube-apiserver/%')\nif test -e $ENCRYPTION_PROVIDER_CONFIG;`,
        },
      ],
    },
    { target: 'node', ids: ['4.1.1', '4.1.2'], written: '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', instead: `${compose} (the kubelet's service definition)` },
    { target: 'node', ids: ['4.1.3', '4.1.4'], written: "kube-proxy's kubeconfig (a ConfigMap under kubeadm)", instead: `${bundle}/kube-proxy/kubeconfig` },
    { target: 'node', ids: ['4.1.5', '4.1.6'], written: '/etc/kubernetes/kubelet.conf', instead: `${kubelet}/kubeconfig (the kubelet runs from this copy of its bundle folder)` },
    { target: 'node', ids: ['4.1.7', '4.1.8'], written: '/etc/kubernetes/pki/ca.crt', instead: `${kubelet}/pki/ca.crt` },
    { target: 'node', ids: ['4.1.9', '4.1.10'], written: '/var/lib/kubelet/config.yaml (also read by the 4.2 checks)', instead: `${kubelet}/kubelet.yaml` },
    {
      target: 'policies',
      ids: ['5.1.1'],
      written: "bash's [[ ]] (kube-bench's image runs its commands with a shell that has it)",
      instead: "the same test in POSIX sh (a node's /bin/sh may be dash, which has not)",
      edits: [
        {
          field: 'audit',
          from: 'if [[ "${role_name}" != "cluster-admin" && "${role_binding}" == "cluster-admin" ]]; then',
          to: 'if [ "${role_name}" != "cluster-admin" ] && [ "${role_binding}" = "cluster-admin" ]; then',
        },
      ],
    },
    {
      target: 'node',
      ids: ['4.3.1'],
      written: "kube-proxy's kubeconfig, where kube-bench looks for metricsBindAddress",
      instead: `${bundle}/kube-proxy/config.yaml (kube-proxy's configuration, which holds it)`,
      edits: [{ field: 'audit_config', from: 'if test -e $proxykubeconfig; then cat $proxykubeconfig; fi', to: `if test -e ${bundle}/kube-proxy/config.yaml; then cat ${bundle}/kube-proxy/config.yaml; fi` }],
    },
  ];
}

/** The runs a node's roles call for, and what does not apply on it. */
function runsFor(plan: ClusterPlan, node: NodePlan, variants: CisVariant[]): CisRun[] {
  const etcdMembers = plan.etcd.members.map((m) => m.name).join(', ');
  const first = plan.nodes.find((n) => has(n, 'control-plane'))?.name;
  const runs: CisRun[] = [];
  if (has(node, 'control-plane')) {
    const notApplicable = [
      ...(has(node, 'etcd') ? [] : etcdFileChecks.map((id) => ({ id, reason: `no etcd member on this node: checked on ${etcdMembers}` }))),
      ...(node.name === first ? [] : adminChecks.map((id) => ({ id, reason: `no administrative kubeconfig on this node: checked on ${first}, whose addons service holds it` }))),
    ];
    runs.push({ target: 'master', notApplicable }, { target: 'controlplane', notApplicable: [] });
  } else if (has(node, 'etcd')) {
    runs.push({ target: 'master', only: [...etcdFileChecks, ...variants.map((v) => v.id)], notApplicable: [] });
  }
  if (has(node, 'etcd')) runs.push({ target: 'etcd', notApplicable: [] });
  runs.push({ target: 'node', notApplicable: [] });
  // Cluster-wide (kubectl with the admin kubeconfig): once, from the first control plane.
  if (node.name === first) runs.push({ target: 'policies', notApplicable: [] });
  return runs;
}

export function cisNodePlan(plan: ClusterPlan, node: NodePlan, bundle: string): CisNodePlan {
  const variants: CisVariant[] = has(node, 'etcd') && plan.mode === 'secure'
    ? [
        {
          target: 'master',
          id: ETCD_KEYS_CHECK,
          of: '1.1.19',
          text: "Ensure that the etcd member's certificate and key files are owned by etcd:etcd (k8s-img: etcd runs as user etcd)",
          audit: `find ${bundle}/etcd/pki/ | xargs stat -c %U:%G`,
          expect: ['root:root', 'etcd:etcd'],
        },
      ]
    : [];
  const runs = runsFor(plan, node, variants);
  const targets = new Set(runs.map((r) => r.target));
  const skipped = new Set(runs.flatMap((r) => r.notApplicable.map((n) => n.id)));
  const only = runs.find((r) => r.target === 'master')?.only;
  return {
    node: node.name,
    roles: [...node.roles],
    runs,
    config: kubeBenchConfig(node, bundle),
    equivalents: equivalents(node, bundle, variants)
      .filter((e) => targets.has(e.target))
      .map((e) => ({ ...e, ids: e.ids.filter((id) => !skipped.has(id) && (e.target !== 'master' || !only || only.includes(id))) }))
      .filter((e) => e.ids.length > 0),
    variants,
  };
}

/** Every node's CIS plan; `bundle` says where a node keeps its bundle. */
export function cisPlan(plan: ClusterPlan, bundle: (node: string) => string): CisNodePlan[] {
  return plan.nodes.map((n) => cisNodePlan(plan, n, bundle(n.name)));
}
