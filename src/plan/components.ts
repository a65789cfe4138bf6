// THE component table: for each Compose service, where it runs, its image,
// flags, files, mounts, privileges, ports and health check. Everything that
// differs between components is data here; plan.ts only walks the table.
import type { NodeContext } from './context.js';
import type { FileSpec, ImageId, PortPlan, ServiceName, ServicePlan, VolumePlan } from './types.js';
import { durationSeconds } from '../config/duration.js';
import { identities, kubeconfig, pki, secret } from './files.js';
import { API_LB_HEALTH_PORT, API_LB_PORT, APISERVER_PORT } from './ports.js';

export const PROBE = '/usr/local/bin/k8s-img-probe';
/** Every service's own bundle folder is mounted here, read-only. */
export const CONF = '/etc/kubernetes';
/**
 * Host agents (containerd, kubelet) run in the node's mount namespace; k8s-img-host-agent
 * copies their binaries and bundle folder here first, so configs name files under it.
 */
export const agentHome = (name: string) => `/var/lib/k8s-img/agents/${name}`;
export const agentConf = (name: string) => `${agentHome(name)}/conf`;
/**
 * `docker exec` (health checks) joins the mount namespace of the container's first
 * process, which for a host agent is the node's: its checks run the copied binaries.
 */
const agentBin = (name: string, binary: string) => `${agentHome(name)}/bin/${binary}`;
export const CONTAINERD_SOCKET = '/run/k8s-img/containerd/containerd.sock';
export const REGISTRY_PORT = 5000;

/** The registry's storage in the bundle of each node that serves it (written by `save`). */
export const REGISTRY_STORAGE = 'registry-storage';
/** The SPDX documents of the node's images, one per image (written by `save`). */
export const SBOM_DIR = 'sbom';
/** containerd and its shims leave the service's cgroup for this one: restarting the service leaves pods running. */
const CONTAINERD_CGROUP = 'k8s-img-containerd';
/**
 * etcd runs as this unprivileged user (CIS 1.1.11/1.1.12: it owns a 0700 data dir).
 * host-prep creates it on the node as "etcd" (a system uid: log-in screens do not list it).
 */
export const ETCD_UID = 379;
export const ETCD_DATA = '/var/lib/etcd';
/** Where the periodic snapshots of a member are kept on its node (etcd.snapshots). */
export const ETCD_SNAPSHOTS = '/var/lib/k8s-img/etcd-snapshots';
/** Where host-prep sees the etcd service's bundle folder, to hand its keys to the etcd user. */
const HOST_PREP_ETCD_CONF = '/k8s-img/etcd';
/** Go's TLS 1.2 suites the CIS benchmark accepts (TLS 1.3 suites are not configurable). */
export const TLS_CIPHER_SUITES = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
];

export interface ComponentDef {
  name: ServiceName;
  image: ImageId;
  summary: string;
  runsOn: (c: NodeContext) => boolean;
  oneshot?: boolean;
  /** Only containerd, kubelet, kube-proxy, calico-node and host-prep may be privileged. */
  privileged?: boolean;
  pidHost?: boolean;
  /** uid:gid to run as (the image's user otherwise). */
  user?: string;
  /** Root filesystem writable only where the program needs it. */
  writableRootfs?: boolean;
  tmpfs?: string[];
  entrypoint?: string[];
  args: (c: NodeContext) => string[];
  env?: (c: NodeContext) => Record<string, string>;
  ports?: (c: NodeContext) => PortPlan[];
  volumes?: (c: NodeContext) => VolumePlan[];
  files?: (c: NodeContext) => FileSpec[];
  health?: (c: NodeContext) => { url: string; test?: string[]; startPeriodSeconds?: number };
  dependsOn?: ServicePlan['dependsOn'];
  /** Adjusts dependsOn to the cluster (rarely needed). */
  dependsOnFor?: (c: NodeContext, deps: ServicePlan['dependsOn']) => ServicePlan['dependsOn'];
}

const hostPath = (path: string, readOnly = false, propagation?: VolumePlan['propagation']): VolumePlan => ({
  source: path,
  target: path,
  readOnly,
  ...(propagation ? { propagation } : {}),
});
const port = (p: number, purpose: string, bind = '0.0.0.0', protocol: 'tcp' | 'udp' = 'tcp'): PortPlan => ({ port: p, protocol, bind, purpose });
const everyNode = () => true;
const afterHostPrep = { service: 'host-prep', condition: 'service_completed_successfully' } as const;

function etcdArgs(c: NodeContext): string[] {
  const s = c.secure ? 'https' : 'http';
  const a = c.node.address;
  const args = [
    `--name=${c.node.name}`,
    `--data-dir=${ETCD_DATA}`,
    `--listen-client-urls=${s}://${a}:2379,${s}://127.0.0.1:2379`,
    `--advertise-client-urls=${s}://${a}:2379`,
    `--listen-peer-urls=${s}://${a}:2380`,
    `--initial-advertise-peer-urls=${s}://${a}:2380`,
    `--initial-cluster=${c.etcdMembers.map((m) => `${m.name}=${s}://${m.address}:2380`).join(',')}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${c.config.name}-etcd`,
    '--listen-metrics-urls=http://127.0.0.1:2381',
  ];
  if (c.secure) {
    args.push(
      `--cert-file=${pki('etcd-server.crt')}`,
      `--key-file=${pki('etcd-server.key')}`,
      '--client-cert-auth=true',
      `--trusted-ca-file=${pki('etcd-ca.crt')}`,
      `--peer-cert-file=${pki('etcd-peer.crt')}`,
      `--peer-key-file=${pki('etcd-peer.key')}`,
      '--peer-client-cert-auth=true',
      `--peer-trusted-ca-file=${pki('etcd-ca.crt')}`,
    );
  }
  return args;
}

function apiserverArgs(c: NodeContext): string[] {
  const net = c.config.networking;
  const args = [
    `--advertise-address=${c.node.address}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${APISERVER_PORT}`,
    `--etcd-servers=${c.etcdEndpoints.join(',')}`,
    `--service-cluster-ip-range=${net.serviceCIDR}`,
    `--service-node-port-range=${net.nodePortRange}`,
    // Secure mode: Pod Security (admission.yaml), and no Service may claim external IPs (CVE-2020-8554).
    `--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota,NodeRestriction${c.secure ? ',PodSecurity,DenyServiceExternalIPs' : ''}`,
    '--allow-privileged=true',
    '--audit-log-path=/var/log/kubernetes/audit.log',
    '--audit-log-maxage=30',
    '--audit-log-maxbackup=10',
    '--audit-log-maxsize=100',
    `--audit-policy-file=${CONF}/audit-policy.yaml`,
    '--event-ttl=1h',
    `--service-account-issuer=https://kubernetes.default.svc.${net.dnsDomain}`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    // Projected tokens live as long as they say (upstream extends them to a year for old clients).
    '--service-account-extend-token-expiration=false',
    '--profiling=false',
    `--tls-cipher-suites=${TLS_CIPHER_SUITES.join(',')}`,
    '--v=1',
  ];
  if (!c.secure) {
    // The apiserver refuses anonymous requests under AlwaysAllow, so "everyone may do
    // everything" is written as an ABAC policy for the unauthenticated and authenticated groups.
    return [
      ...args,
      '--anonymous-auth=true',
      `--token-auth-file=${CONF}/tokens.csv`,
      '--authorization-mode=ABAC',
      `--authorization-policy-file=${CONF}/abac-policy.jsonl`,
      '--cert-dir=/var/run/kubernetes',
    ];
  }
  return [
    ...args,
    `--authentication-config=${CONF}/authentication.yaml`,
    '--authorization-mode=Node,RBAC',
    `--admission-control-config-file=${CONF}/admission.yaml`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
    `--kubelet-certificate-authority=${pki('ca.crt')}`,
    `--etcd-cafile=${pki('etcd-ca.crt')}`,
    `--etcd-certfile=${pki('apiserver-etcd-client.crt')}`,
    `--etcd-keyfile=${pki('apiserver-etcd-client.key')}`,
    `--encryption-provider-config=${CONF}/encryption-config.yaml`,
    `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--proxy-client-cert-file=${pki('front-proxy-client.crt')}`,
    `--proxy-client-key-file=${pki('front-proxy-client.key')}`,
  ];
}

/**
 * Flags shared by controller-manager and scheduler: their own kubeconfig, delegated authn/z,
 * the secure port on 127.0.0.1 only (their health checks run on the node) and no profiling.
 */
function delegatedAuthArgs(c: NodeContext): string[] {
  const kc = `${CONF}/kubeconfig`;
  const args = [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--bind-address=127.0.0.1',
    '--profiling=false',
    '--leader-elect=true',
    '--v=1',
  ];
  if (c.secure) args.push(`--client-ca-file=${pki('ca.crt')}`, `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`);
  return args;
}

function nodeCidrMaskSize(podCIDR: string): number {
  const prefix = Number(podCIDR.split('/')[1]);
  return Math.min(28, Math.max(24, prefix + 2));
}

function controllerManagerArgs(c: NodeContext): string[] {
  const net = c.config.networking;
  const args = [
    ...delegatedAuthArgs(c),
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${net.podCIDR}`,
    `--node-cidr-mask-size=${nodeCidrMaskSize(net.podCIDR)}`,
    `--service-cluster-ip-range=${net.serviceCIDR}`,
    `--cluster-name=${c.config.name}`,
    `--service-account-private-key-file=${pki('sa.key')}`,
    '--use-service-account-credentials=true',
    '--controllers=*,bootstrapsigner,tokencleaner',
    // Finished pods are garbage-collected beyond this many (upstream: 12500).
    '--terminated-pod-gc-threshold=1000',
  ];
  if (c.secure) {
    args.push(`--root-ca-file=${pki('ca.crt')}`, `--cluster-signing-cert-file=${pki('ca.crt')}`, `--cluster-signing-key-file=${pki('ca.key')}`);
  }
  return args;
}

function kubeletArgs(c: NodeContext): string[] {
  const labels = [`k8s-img.io/cluster=${c.config.name}`, ...c.node.roles.map((r) => `k8s-img.io/role-${r}=true`)];
  const conf = agentConf('kubelet');
  const args = [
    `--config=${conf}/kubelet.yaml`,
    `--kubeconfig=${conf}/kubeconfig`,
    `--hostname-override=${c.node.name}`,
    `--node-ip=${c.node.address}`,
    `--node-labels=${labels.join(',')}`,
    '--v=1',
  ];
  // Control-plane-only nodes run a kubelet (Calico needs their Node object) but take no workloads.
  if (!c.has('worker')) args.push('--register-with-taints=node-role.kubernetes.io/control-plane=:NoSchedule');
  return args;
}

function calicoEnv(c: NodeContext): Record<string, string> {
  const net = c.config.networking;
  const vxlan = net.calico.backend === 'vxlan';
  // BGP: confd + BIRD in a node-to-node mesh, this AS on every node; pool routes are plain kernel routes.
  const bgp: Record<string, string> = vxlan ? {} : { AS: String(net.calico.asNumber) };
  return {
    ...bgp,
    DATASTORE_TYPE: 'kubernetes',
    KUBECONFIG: `${CONF}/kubeconfig`,
    NODENAME: c.node.name,
    IP: c.node.address,
    IP6: 'none',
    CALICO_NETWORKING_BACKEND: vxlan ? 'vxlan' : 'bird',
    CALICO_IPV4POOL_CIDR: net.podCIDR,
    CALICO_IPV4POOL_BLOCK_SIZE: '26',
    CALICO_IPV4POOL_VXLAN: vxlan ? 'Always' : 'Never',
    CALICO_IPV4POOL_IPIP: 'Never',
    CALICO_IPV4POOL_NAT_OUTGOING: 'true',
    CALICO_MANAGE_CNI: 'false',
    CLUSTER_TYPE: 'k8s-img',
    WAIT_FOR_DATASTORE: 'true',
    FELIX_DEFAULTENDPOINTTOHOSTACTION: 'ACCEPT',
    FELIX_IPV6SUPPORT: 'false',
    FELIX_HEALTHENABLED: 'true',
    FELIX_HEALTHHOST: '127.0.0.1',
    FELIX_XDPENABLED: 'false',
    FELIX_BPFENABLED: 'false',
    ...(vxlan ? { FELIX_VXLANMTU: String(net.calico.mtu) } : {}),
    FELIX_LOGSEVERITYSCREEN: 'info',
    // Without upstream's runit scripts these must be given explicitly (felix defaults to etcdv3).
    FELIX_FELIXHOSTNAME: c.node.name,
    FELIX_DATASTORETYPE: 'kubernetes',
    FELIX_IPTABLESBACKEND: 'NFT',
    FELIX_LOGFILEPATH: 'none',
    FELIX_USAGEREPORTINGENABLED: 'false',
    CALICO_DISABLE_FILE_LOGGING: 'true',
  };
}

export const COMPONENTS: readonly ComponentDef[] = [
  {
    name: 'host-prep',
    image: 'host-prep',
    summary: 'one-shot: FORWARD ACCEPT, ip_forward, bridge-nf-call sysctls, shared mounts',
    runsOn: everyNode,
    oneshot: true,
    privileged: true,
    pidHost: true,
    args: () => [],
    // On etcd members: the etcd user, and its data dir and keys handed to it.
    env: (c) => (c.has('etcd') ? { K8S_IMG_ETCD_UID: String(ETCD_UID), K8S_IMG_ETCD_DATA: ETCD_DATA, ...(c.secure ? { K8S_IMG_ETCD_CONF: HOST_PREP_ETCD_CONF } : {}) } : {}),
    volumes: (c) => (c.has('etcd') ? [hostPath(ETCD_DATA), ...(c.secure ? [{ source: './etcd', target: HOST_PREP_ETCD_CONF, readOnly: false }] : [])] : []),
  },
  {
    name: 'etcd',
    image: 'etcd',
    summary: 'the cluster store; data on the host at /var/lib/etcd (user etcd, 0700)',
    runsOn: (c) => c.has('etcd'),
    user: `${ETCD_UID}:${ETCD_UID}`,
    args: etcdArgs,
    ports: (c) => [port(2379, 'client', c.node.address), port(2380, 'peer', c.node.address), port(2381, 'health/metrics', '127.0.0.1')],
    volumes: () => [hostPath(ETCD_DATA)],
    files: (c) => (c.secure ? [secret('pki/etcd-ca.crt', 'etcd-ca.crt'), ...etcdMemberSecrets(c.node.name)] : []),
    health: () => ({ url: 'http://127.0.0.1:2381/readyz' }),
    dependsOn: [afterHostPrep],
  },
  {
    name: 'etcd-snapshots',
    image: 'etcd-snapshots',
    summary: `periodic etcd snapshots into ${ETCD_SNAPSHOTS}, with their sha256, the newest kept`,
    runsOn: (c) => c.has('etcd') && c.config.etcd.snapshots !== undefined,
    tmpfs: ['/tmp'],
    // etcdctl's flags: this member, with its own certificate (it serves clients too).
    args: (c) => [
      `--endpoints=${c.secure ? 'https' : 'http'}://${c.node.address}:2379`,
      '--command-timeout=600s',
      ...(c.secure ? [`--cacert=${pki('etcd-ca.crt')}`, `--cert=${pki('etcd-server.crt')}`, `--key=${pki('etcd-server.key')}`] : []),
    ],
    env: (c) => ({
      K8S_IMG_DIR: ETCD_SNAPSHOTS,
      K8S_IMG_EVERY: String(durationSeconds(c.config.etcd.snapshots!.every)),
      K8S_IMG_KEEP: String(c.config.etcd.snapshots!.keep),
      K8S_IMG_KUBERNETES: c.release.kubernetes,
    }),
    volumes: () => [hostPath(ETCD_SNAPSHOTS)],
    files: (c) => (c.secure ? [secret('pki/etcd-ca.crt', 'etcd-ca.crt'), secret('pki/etcd-server.crt', `etcd-server-${c.node.name}.crt`), secret('pki/etcd-server.key', `etcd-server-${c.node.name}.key`)] : []),
    health: () => ({ url: 'file:///tmp/k8s-img-etcd-snapshots', test: ['/usr/local/bin/k8s-img-etcd-snapshots', 'health'] }),
    // It retries until the member answers (with several members, only once they have quorum).
    dependsOn: [{ service: 'etcd', condition: 'service_started' }],
  },
  {
    name: 'kube-apiserver',
    image: 'kube-apiserver',
    summary: 'the Kubernetes API on :6443 (TLS)',
    runsOn: (c) => c.has('control-plane'),
    tmpfs: ['/var/run/kubernetes', '/tmp'],
    args: apiserverArgs,
    ports: () => [port(APISERVER_PORT, 'Kubernetes API (TLS)')],
    volumes: () => [hostPath('/var/log/kubernetes')],
    files: (c) => [
      { path: 'audit-policy.yaml', mode: 0o600, template: 'audit-policy.yaml', data: {} },
      ...(c.secure
        ? []
        : [
            { path: 'abac-policy.jsonl', mode: 0o600, template: 'abac-policy.jsonl', data: {} },
            // Static tokens, as the tutorial's token.csv: they name the components in the audit log.
            {
              path: 'tokens.csv',
              mode: 0o600,
              template: 'tokens.csv',
              data: { identities: identities(c.config.nodes.map((n) => n.name)).map((i) => ({ ...i, token: { $secret: `token-${i.credential}` }, groups: i.groups.join(',') })) },
            },
          ]),
      secret('pki/sa.pub', 'sa.pub'),
      secret('pki/sa.key', 'sa.key'),
      ...(c.secure
        ? [
            { path: 'authentication.yaml', mode: 0o600, template: 'authentication-config.yaml', data: {} },
            { path: 'admission.yaml', mode: 0o600, template: 'admission-config.yaml', data: c.config.security.podSecurity },
            { path: 'encryption-config.yaml', mode: 0o600, template: 'encryption-config.yaml', data: { key: { $secret: 'encryption.key' } } },
            ...['ca.crt', 'etcd-ca.crt', 'front-proxy-ca.crt'].map((n) => secret(`pki/${n}`, n)),
            ...['apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-client'].flatMap((n) => [
              secret(`pki/${n}.crt`, `${n}.crt`),
              secret(`pki/${n}.key`, `${n}.key`),
            ]),
          ]
        : []),
    ],
    health: () => ({ url: `https://127.0.0.1:${APISERVER_PORT}/readyz` }),
    dependsOn: [afterHostPrep, { service: 'etcd', condition: 'service_healthy' }],
    // With several etcd members a local member is healthy only once its peers on other
    // nodes are up: waiting for it here would block `docker compose up` on this node.
    dependsOnFor: (c, deps) => (c.etcdMembers.length > 1 ? deps.map((d) => (d.service === 'etcd' ? { ...d, condition: 'service_started' } : d)) : deps),
  },
  {
    name: 'kube-controller-manager',
    image: 'kube-controller-manager',
    summary: 'controllers; secure port :10257',
    runsOn: (c) => c.has('control-plane'),
    tmpfs: ['/var/run/kubernetes', '/tmp'],
    args: controllerManagerArgs,
    ports: () => [port(10257, 'health/metrics (TLS)', '127.0.0.1')],
    files: (c) => [
      ...kubeconfig(c, 'kubeconfig', 'controller-manager'),
      secret('pki/sa.key', 'sa.key'),
      ...(c.secure ? [secret('pki/ca.key', 'ca.key'), secret('pki/front-proxy-ca.crt', 'front-proxy-ca.crt')] : []),
    ],
    health: () => ({ url: 'https://127.0.0.1:10257/healthz' }),
    dependsOn: [{ service: 'kube-apiserver', condition: 'service_healthy' }],
  },
  {
    name: 'kube-scheduler',
    image: 'kube-scheduler',
    summary: 'places pods on nodes; secure port :10259',
    runsOn: (c) => c.has('control-plane'),
    tmpfs: ['/var/run/kubernetes', '/tmp'],
    args: delegatedAuthArgs,
    ports: () => [port(10259, 'health/metrics (TLS)', '127.0.0.1')],
    files: (c) => [
      ...kubeconfig(c, 'kubeconfig', 'scheduler'),
      ...(c.secure ? [secret('pki/front-proxy-ca.crt', 'front-proxy-ca.crt')] : []),
    ],
    health: () => ({ url: 'https://127.0.0.1:10259/livez' }),
    dependsOn: [{ service: 'kube-apiserver', condition: 'service_healthy' }],
  },
  {
    name: 'addons',
    image: 'kubectl',
    summary: 'one-shot: applies Calico CRDs and RBAC, CoreDNS',
    runsOn: (c) => c.isFirstControlPlane,
    oneshot: true,
    tmpfs: ['/tmp'],
    env: () => ({ HOME: '/tmp' }), // kubectl's discovery cache; the root filesystem is read-only
    // In this order: calico-node waits for its CRDs and RBAC before it can start (and the
    // nodes are Ready only then), CoreDNS cannot run before that anyway.
    args: (c) => [
      `--kubeconfig=${CONF}/kubeconfig`,
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=k8s-img',
      '-f',
      '/usr/share/k8s-img/manifests',
      ...addonManifests(c).flatMap((f) => ['-f', `${CONF}/${f.path}`]),
    ],
    files: (c) => [...kubeconfig(c, 'kubeconfig', 'admin'), ...addonManifests(c)],
    dependsOn: [{ service: 'kube-apiserver', condition: 'service_healthy' }],
  },
  {
    name: 'install-cni',
    image: 'calico-node',
    summary: 'one-shot: copies the CNI plugins and Calico\'s CNI config onto the node',
    runsOn: everyNode,
    oneshot: true,
    entrypoint: ['/usr/local/bin/k8s-img-install-cni'],
    args: () => [],
    volumes: () => [
      { source: '/opt/cni/bin', target: '/host/opt/cni/bin', readOnly: false },
      { source: '/etc/cni/net.d', target: '/host/etc/cni/net.d', readOnly: false },
    ],
    files: (c) => [
      {
        path: '10-calico.conflist',
        mode: 0o600,
        template: 'calico-conflist.json',
        data: { node: c.node.name, mtu: c.config.networking.calico.mtu },
      },
      ...kubeconfig(c, 'calico-kubeconfig', 'calico-cni', '/etc/cni/net.d/pki'),
    ],
    dependsOn: [afterHostPrep],
  },
  {
    name: 'registry',
    image: 'registry',
    summary: 'the cluster\'s image registry (read-only): every node pulls pod images from it',
    runsOn: (c) => c.has('control-plane'),
    args: () => ['serve', `${CONF}/config.yml`],
    ports: (c) => [port(REGISTRY_PORT, c.secure ? 'image registry (TLS, read-only)' : 'image registry (read-only)')],
    // `save` and `load` write the storage; the registry only serves it.
    volumes: () => [{ source: `./${REGISTRY_STORAGE}`, target: '/var/lib/registry', readOnly: true }],
    files: (c) => [
      { path: 'config.yml', mode: 0o600, template: 'registry/config.yml', data: { port: REGISTRY_PORT, secure: c.secure } },
      ...(c.secure ? [secret('pki/registry.crt', 'registry.crt'), secret('pki/registry.key', 'registry.key')] : []),
    ],
    health: (c) => ({ url: `${c.secure ? 'https' : 'http'}://127.0.0.1:${REGISTRY_PORT}/v2/` }),
  },
  {
    name: 'api-lb',
    image: 'api-lb',
    summary: 'the node\'s API endpoint: 127.0.0.1:6444, balanced over the ready control planes',
    runsOn: everyNode,
    args: (c) => [
      `-listen=127.0.0.1:${API_LB_PORT}`,
      `-health=127.0.0.1:${API_LB_HEALTH_PORT}`,
      ...c.controlPlanes.map((n) => `-backend=${n.address}:${APISERVER_PORT}`),
      // Simple mode's apiserver signs its own certificate: nothing to check it against.
      ...(c.secure ? [`-ca=${CONF}/ca.crt`] : []),
    ],
    ports: () => [port(API_LB_PORT, 'Kubernetes API, every control plane', '127.0.0.1'), port(API_LB_HEALTH_PORT, 'health', '127.0.0.1')],
    files: (c) => (c.secure ? [secret('ca.crt', 'ca.crt')] : []),
    health: () => ({ url: `http://127.0.0.1:${API_LB_HEALTH_PORT}/healthz` }),
  },
  {
    name: 'containerd',
    image: 'containerd',
    summary: 'containerd + runc: the pods\' runtime; pulls only from the cluster\'s registry',
    runsOn: everyNode,
    privileged: true,
    pidHost: true,
    writableRootfs: true,
    args: () => ['containerd', 'containerd', '--config', `${agentConf('containerd')}/config.toml`],
    env: () => ({ K8S_IMG_AGENT_BINARIES: 'containerd containerd-shim-runc-v2 ctr runc', K8S_IMG_AGENT_CGROUP: CONTAINERD_CGROUP }),
    volumes: () => [hostPath(agentHome('containerd'))],
    files: (c) => {
      const conf = agentConf('containerd');
      const scheme = c.secure ? 'https' : 'http';
      // This node's own copy first (control planes run one), then the others'.
      const sources = [...c.controlPlanes].sort((a, b) => Number(b.name === c.node.name) - Number(a.name === c.node.name)).map((n) => `${scheme}://${n.address}:${REGISTRY_PORT}`);
      return [
        {
          path: 'config.toml',
          mode: 0o600,
          template: 'containerd/config.toml',
          data: { socket: CONTAINERD_SOCKET, conf, runc: agentBin('containerd', 'runc'), sandboxImage: c.images.pause },
        },
        {
          path: 'certs.d/_default/hosts.toml',
          mode: 0o600,
          template: 'containerd/hosts.toml',
          data: { server: sources.at(-1)!, mirrors: sources.slice(0, -1), ca: c.secure ? `${conf}/pki/ca.crt` : '' },
        },
        ...(c.secure ? [secret('pki/ca.crt', 'ca.crt')] : []),
      ];
    },
    health: () => ({
      url: `unix://${CONTAINERD_SOCKET}`,
      test: [agentBin('containerd', 'ctr'), '--address', CONTAINERD_SOCKET, 'version'],
      startPeriodSeconds: 60,
    }),
    dependsOn: [afterHostPrep],
  },
  {
    name: 'kubelet',
    image: 'kubelet',
    summary: 'the kubelet; its pods run in containerd',
    runsOn: everyNode,
    privileged: true,
    pidHost: true,
    writableRootfs: true,
    args: (c) => ['kubelet', 'kubelet', ...kubeletArgs(c)],
    env: () => ({ K8S_IMG_AGENT_BINARIES: 'kubelet k8s-img-probe' }),
    ports: () => [port(10250, 'kubelet API (TLS)'), port(10248, 'health', '127.0.0.1')],
    volumes: () => [hostPath(agentHome('kubelet'))],
    files: (c) => {
      const conf = agentConf('kubelet');
      return [
        ...kubeconfig(c, 'kubeconfig', 'kubelet', `${conf}/pki`),
        {
          path: 'kubelet.yaml',
          mode: 0o600,
          template: 'kubelet-config.yaml',
          data: {
            clusterDNS: c.config.networking.clusterDNS,
            domain: c.config.networking.dnsDomain,
            secure: c.secure,
            pki: `${conf}/pki`,
            cipherSuites: TLS_CIPHER_SUITES,
            runtimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
            resolvConf: c.config.networking.upstreamDNS === undefined ? '/etc/resolv.conf' : '',
          },
        },
        ...(c.secure
          ? [secret('pki/kubelet-serving.crt', `kubelet-serving-${c.node.name}.crt`), secret('pki/kubelet-serving.key', `kubelet-serving-${c.node.name}.key`)]
          : []),
      ];
    },
    health: () => {
      const url = 'http://127.0.0.1:10248/healthz';
      return { url, test: [agentBin('kubelet', 'k8s-img-probe'), url], startPeriodSeconds: 120 };
    },
    dependsOn: [
      afterHostPrep,
      { service: 'install-cni', condition: 'service_completed_successfully' },
      { service: 'containerd', condition: 'service_healthy' },
    ],
  },
  {
    name: 'kube-proxy',
    image: 'kube-proxy',
    summary: 'Services in iptables mode',
    runsOn: everyNode,
    privileged: true,
    writableRootfs: true,
    args: () => [`--config=${CONF}/config.yaml`, '--v=1'],
    env: (c) => ({ K8S_IMG_SERVICE_CIDR: c.config.networking.serviceCIDR }),
    ports: () => [port(10256, 'health', '127.0.0.1'), port(10249, 'metrics', '127.0.0.1')],
    // The host's /run, not just /run/xtables.lock: after a reboot the lock file does not
    // exist yet and Docker would create a folder in its place.
    volumes: () => [hostPath('/lib/modules', true), hostPath('/run', false, 'rslave')],
    files: (c) => [
      ...kubeconfig(c, 'kubeconfig', 'kube-proxy'),
      {
        path: 'config.yaml',
        mode: 0o600,
        template: 'kube-proxy-config.yaml',
        data: { podCIDR: c.config.networking.podCIDR, node: c.node.name },
      },
    ],
    health: () => ({ url: 'http://127.0.0.1:10256/livez', startPeriodSeconds: 120 }),
    dependsOn: [afterHostPrep],
  },
  {
    name: 'calico-node',
    image: 'calico-node',
    summary: 'Calico: felix policy + routes, IP pool; VXLAN tunnels, or BIRD\'s BGP mesh',
    runsOn: everyNode,
    privileged: true,
    writableRootfs: true,
    args: () => [],
    env: calicoEnv,
    ports: (c) =>
      c.config.networking.calico.backend === 'vxlan'
        ? [port(4789, 'VXLAN', c.node.address, 'udp'), port(9099, 'felix health', '127.0.0.1')]
        : [port(179, 'BGP', c.node.address), port(9099, 'felix health', '127.0.0.1')],
    volumes: () => [
      hostPath('/lib/modules', true),
      hostPath('/run', false, 'rslave'), // xtables.lock and /run/calico
      hostPath('/var/lib/calico'),
      hostPath('/var/log/calico'),
    ],
    files: (c) => [
      ...kubeconfig(c, 'kubeconfig', 'calico-node'),
    ],
    // Upstream's liveness checks: felix, and for BGP that confd and BIRD run and BIRD answers.
    // Whether the sessions are up depends on the other nodes: `k8s-img status` shows that.
    health: (c) => ({
      url: 'http://127.0.0.1:9099/readiness',
      test: ['calico-node', '-felix-live', '-felix-ready', ...(c.config.networking.calico.backend === 'bgp' ? ['-bird-live'] : [])],
      startPeriodSeconds: 120,
    }),
    dependsOn: [afterHostPrep],
  },
  {
    name: 'calico-kube-controllers',
    image: 'calico-kube-controllers',
    summary: 'Calico\'s node controller: frees the IP blocks of deleted nodes',
    // One instance is enough (upstream runs one replica): it only cleans up after deleted nodes.
    runsOn: (c) => c.isFirstControlPlane,
    tmpfs: ['/status', '/tmp'],
    args: () => [],
    env: () => ({
      DATASTORE_TYPE: 'kubernetes',
      KUBECONFIG: `${CONF}/kubeconfig`,
      // The other controllers serve the etcd datastore only.
      ENABLED_CONTROLLERS: 'node',
      LOG_LEVEL: 'info',
    }),
    files: (c) => kubeconfig(c, 'kubeconfig', 'calico-kube-controllers'),
    health: () => ({ url: 'file:///status/status.json', test: ['/usr/local/bin/check-status', '-r'] }),
    dependsOn: [{ service: 'kube-apiserver', condition: 'service_healthy' }],
  },
];

/** The add-on manifests k8s-img writes, in the order the addons service applies them. */
function addonManifests(c: NodeContext): FileSpec[] {
  return [
    { path: 'manifests/rbac.yaml', mode: 0o600, template: 'addons/rbac.yaml', data: { secure: c.secure } },
    // Ingress of the system namespaces limited to what they serve (CIS 5.3.2).
    ...(c.secure ? [{ path: 'manifests/network-policies.yaml', mode: 0o600, template: 'addons/network-policies.yaml', data: { namespaces: ['kube-system', 'kube-public', 'kube-node-lease'] } }] : []),
    {
      path: 'manifests/coredns.yaml',
      mode: 0o600,
      template: 'addons/coredns.yaml',
      data: {
        image: c.images.coredns,
        clusterDNS: c.config.networking.clusterDNS,
        domain: c.config.networking.dnsDomain,
        upstream: c.config.networking.upstreamDNS === undefined ? '/etc/resolv.conf' : c.config.networking.upstreamDNS.join(' '),
        secure: c.secure,
        apiServer: `https://${c.kubernetesServiceIP}:443`,
      },
    },
  ];
}

function etcdMemberSecrets(node: string): FileSpec[] {
  return ['etcd-server', 'etcd-peer'].flatMap((n) => [secret(`pki/${n}.crt`, `${n}-${node}.crt`), secret(`pki/${n}.key`, `${n}-${node}.key`)]);
}

/** Images that pods use (not Compose services): the cluster's registry serves them. */
export const POD_IMAGES: readonly ImageId[] = ['pause', 'coredns', 'workload'];
