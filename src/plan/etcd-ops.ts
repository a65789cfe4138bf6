// etcd snapshots and restores as argv, from the plan alone (pure): what runs on a
// member, in a one-shot container of the etcd image (etcdctl and etcdutl are in it).
import { ETCD_DATA, ETCD_SNAPSHOTS, ETCD_UID } from './components.js';
import type { ClusterPlan } from './types.js';

/** Where on a node the one-shots read and write (a folder of their own, 0700, removed after). */
export const ETCD_WORK = '/var/lib/k8s-img/etcd-work';
/** Mount point of the work folder inside the one-shot. */
const IN = '/work';
/**
 * Revisions jump this far ahead after a restore, and the old ones count as compacted:
 * every watcher (kubelets, controllers, Calico) relists instead of waiting for a
 * revision the restored store already passed (upstream's advice for Kubernetes).
 */
export const BUMP_REVISION = 1_000_000_000;

/** The client certificate the one-shots present (the API server's, from the state folder). */
export const CLIENT_FILES = { ca: 'etcd-ca.crt', cert: 'apiserver-etcd-client.crt', key: 'apiserver-etcd-client.key' } as const;

const scheme = (plan: ClusterPlan) => (plan.mode === 'secure' ? 'https' : 'http');

export function etcdImage(plan: ClusterPlan): string {
  return plan.images.etcd;
}

/** `docker run` of the etcd image with `tool` as entrypoint and the work folder mounted. */
export function oneShot(plan: ClusterPlan, workDir: string, tool: 'etcdctl' | 'etcdutl', args: string[], user = '0:0'): string[] {
  return [
    'docker', 'run', '--rm', '--network', 'host', '--user', user,
    '--label', 'io.k8s-img.managed=true', '--label', `io.k8s-img.cluster=${plan.cluster}`, '--label', 'io.k8s-img.component=etcd-oneshot',
    '-v', `${workDir}:${IN}`, '--entrypoint', `/usr/local/bin/${tool}`, etcdImage(plan), ...args,
  ];
}

/** etcdctl talking to the member it runs on, with the client certificate in secure mode. */
export function etcdctlArgs(plan: ClusterPlan, member: { address: string }, args: string[]): string[] {
  const tls = plan.mode === 'secure' ? [`--cacert=${IN}/${CLIENT_FILES.ca}`, `--cert=${IN}/${CLIENT_FILES.cert}`, `--key=${IN}/${CLIENT_FILES.key}`] : [];
  return [`--endpoints=${scheme(plan)}://${member.address}:2379`, '--command-timeout=120s', ...tls, ...args];
}

export const snapshotFile = `${IN}/snapshot.db`;

/** The --initial-cluster every member is restored with: all of them (RKE1's way). */
export function initialCluster(plan: ClusterPlan): string {
  return plan.etcd.members.map((m) => `${m.name}=${scheme(plan)}://${m.address}:2380`).join(',');
}

/** etcdutl snapshot restore for one member into `<work>/data` (a new folder, the live one untouched). */
export function restoreArgs(plan: ClusterPlan, member: { name: string; address: string }): string[] {
  return [
    'snapshot', 'restore', snapshotFile,
    `--name=${member.name}`,
    `--initial-cluster=${initialCluster(plan)}`,
    // The token the etcd service is started with (components.ts).
    `--initial-cluster-token=${plan.cluster}-etcd`,
    `--initial-advertise-peer-urls=${scheme(plan)}://${member.address}:2380`,
    `--data-dir=${IN}/data`,
    `--bump-revision=${BUMP_REVISION}`,
    '--mark-compacted',
  ];
}

/** Names of the member's data folders around a restore. */
export function dataDirs(id: string): { live: string; aside: string; work: string } {
  return { live: ETCD_DATA, aside: `${ETCD_DATA}.before-${id}`, work: `${ETCD_WORK}/${id}` };
}

/** Shell-free steps that swap the restored data in on one member (etcd stopped). */
export function swapInCommands(id: string): string[][] {
  const d = dataDirs(id);
  return [
    ['mv', d.live, d.aside],
    ['mv', `${d.work}/data`, d.live],
    ['chown', '-R', `${ETCD_UID}:${ETCD_UID}`, d.live],
    ['chmod', '0700', d.live],
  ];
}

/** What an operator types on a member to go back to the data before the restore. */
export function rollbackText(plan: ClusterPlan, id: string, bundleDir: string): string {
  const d = dataDirs(id);
  return [
    `on each etcd member (${plan.etcd.members.map((m) => m.name).join(', ')}), if ${d.aside} exists:`,
    `  cd ${bundleDir} && docker compose stop etcd && mv ${d.live} ${d.live}.failed-${id} && mv ${d.aside} ${d.live} && docker compose up -d`,
    `then on each control plane: cd ${bundleDir} && docker compose up -d`,
  ].join('\n');
}

/** The control-plane services stopped while etcd's data is replaced (nothing may write to it). */
export const API_SERVICES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

/** A periodic snapshot's file name on its member: <UTC time>-v<Kubernetes version>.db (k8s-img-etcd-snapshots). */
const PERIODIC = /^(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z-v(\d+\.\d+\.\d+)$/;

/** When a periodic snapshot was taken and on which version, from its name (without .db); undefined for other names. */
export function periodicName(stem: string): { createdAt: string; kubernetesVersion: string } | undefined {
  const m = PERIODIC.exec(stem);
  if (!m) return undefined;
  return { createdAt: `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`, kubernetesVersion: m[7]! };
}

/** `<node>:<name>` names a periodic snapshot on a member (as `etcd snapshot list` shows it). */
export function parsePeriodicRef(text: string): { node: string; stem: string } | undefined {
  const i = text.indexOf(':');
  if (i < 1) return undefined;
  const node = text.slice(0, i);
  const stem = text.slice(i + 1).replace(/\.db$/, '');
  return periodicName(stem) ? { node, stem } : undefined;
}

/** The name a fetched periodic snapshot gets in the state folder. */
export function fetchedName(ref: { node: string; stem: string }): string {
  return `${ref.node}-${ref.stem}`;
}

export const periodicFile = (stem: string) => `${ETCD_SNAPSHOTS}/${stem}.db`;

/** Lists a member's periodic snapshots: one line per file, `<file> <size> <sha256>` (nothing when there are none). */
export const LIST_PERIODIC = [
  'sh',
  '-c',
  `cd ${ETCD_SNAPSHOTS} 2>/dev/null || exit 0; for f in *.db; do [ -f "$f" ] || continue; printf '%s %s %s\\n' "$f" "$(stat -c %s "$f")" "$(cut -d' ' -f1 "$f.sha256" 2>/dev/null)"; done`,
];
