// The JSON Schema of cluster.yaml for editors (yaml-language-server): the structure from
// the zod schema, with a description and default per field from the table below (the
// defaults are DEFAULTS, the values resolveDefaults applies). Pure.
import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { API_VERSION, clusterSchema } from './schema.js';
import { DEFAULT_RELEASE } from './versions.js';

type Doc = { description: string; default?: unknown };

/** Per field (dotted path; list items as their list's path), what it means and its default. */
export const FIELD_DOCS: Record<string, Doc> = {
  '': { description: 'A k8s-img cluster: its nodes and how Kubernetes runs on them. `k8s-img validate` checks it, `k8s-img plan` shows the result.' },
  apiVersion: { description: `The configuration format: ${API_VERSION}.` },
  kind: { description: 'Always Cluster.' },
  name: { description: 'The cluster name: in container, network and kubeconfig context names (k8s-img-<name>).' },
  kubernetesVersion: { description: 'The Kubernetes release; `k8s-img versions` lists the supported ones.', default: DEFAULT_RELEASE.kubernetes },
  nodes: { description: 'The machines (or, with `k8s-img up`, containers) of the cluster.' },
  'nodes.name': { description: 'The node name (its hostname and Kubernetes Node name).' },
  'nodes.address': { description: 'The node IPv4 address; local clusters put all nodes on one /24.' },
  'nodes.roles': { description: 'control-plane (apiserver, controller-manager, scheduler, registry), etcd (an etcd member), worker (runs pods). Every node runs kubelet, kube-proxy and calico-node.' },
  'nodes.ssh': { description: 'How `k8s-img deploy` reaches this machine, over the top-level ssh block (keys only: no password is read from the file).' },
  'nodes.ssh.user': { description: "The login for deploy: root or a member of the docker group (unset: ~/.ssh/config's User, else root)." },
  'nodes.ssh.port': { description: "The SSH port (unset: ~/.ssh/config's Port, else 22)." },
  'nodes.ssh.identityFile': { description: "The private key, absolute or ~/ (unset: ~/.ssh/config's IdentityFile, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa); an ssh-agent is tried first. No passwords." },
  ssh: { description: 'Defaults for every node\'s ssh block (`k8s-img deploy`); `k8s-img up` ignores it.' },
  'ssh.user': { description: "The login for deploy: root or a member of the docker group (unset: ~/.ssh/config's User, else root)." },
  'ssh.port': { description: "The SSH port (unset: ~/.ssh/config's Port, else 22)." },
  'ssh.identityFile': { description: "The private key, absolute or ~/ (unset: ~/.ssh/config's IdentityFile, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa); an ssh-agent is tried first. No passwords." },
  networking: { description: 'Pod, Service and DNS addressing.' },
  'networking.podCIDR': { description: "Calico's IP pool; must not overlap the nodes or Services.", default: DEFAULTS.podCIDR },
  'networking.serviceCIDR': { description: 'The ClusterIP range; its first address is the "kubernetes" Service.', default: DEFAULTS.serviceCIDR },
  'networking.clusterDNS': { description: "CoreDNS's Service IP, inside serviceCIDR.", default: DEFAULTS.clusterDNS },
  'networking.dnsDomain': { description: 'The cluster DNS domain.', default: DEFAULTS.dnsDomain },
  'networking.nodePortRange': { description: 'The NodePort range, FROM-TO.', default: DEFAULTS.nodePortRange },
  'networking.upstreamDNS': { description: "Resolvers CoreDNS forwards other names to. Absent: the node's /etc/resolv.conf; empty: cluster names only." },
  'networking.calico': { description: 'Calico, the pod network.' },
  'networking.calico.backend': { description: 'vxlan works across routed networks too; bgp is the tutorial\'s node-to-node mesh (nodes on one L2 network).', default: DEFAULTS.calicoBackend },
  'networking.calico.mtu': { description: 'The pod interfaces\' MTU: 1450 with vxlan, 1500 with bgp.', default: DEFAULTS.calicoMTU.vxlan },
  'networking.calico.asNumber': { description: 'The BGP autonomous system of every node (bgp backend).', default: DEFAULTS.calicoAS },
  etcd: { description: 'etcd beyond its members.' },
  'etcd.snapshots': {
    description:
      'Periodic snapshots on every etcd member (off unless given): a Compose service saves one every `every` into /var/lib/k8s-img/etcd-snapshots on the member, with its sha256, and keeps the `keep` newest. `k8s-img etcd snapshot list` shows them; `restore <node>:<name>` restores one.',
  },
  'etcd.snapshots.every': { description: 'How often: whole numbers with d, h, m or s, largest first (20s, 30m, 6h, 1d12h); 10s to 30d.', default: DEFAULTS.etcdSnapshots.every },
  'etcd.snapshots.keep': { description: 'How many snapshots each member keeps (1-1000); older ones are removed.', default: DEFAULTS.etcdSnapshots.keep },
  security: { description: 'How the cluster is secured.' },
  'security.mode': { description: "secure: TLS everywhere, RBAC, client certificates. simple: the tutorial's first flavour, no authentication, for learning only.", default: DEFAULTS.securityMode },
  'security.podSecurity': { description: 'Cluster-wide Pod Security levels (secure mode) for namespaces that set none by label.' },
  'security.podSecurity.enforce': { description: 'Pods violating this level are refused.', default: DEFAULTS.podSecurity.enforce },
  'security.podSecurity.warn': { description: 'Clients are warned about pods violating this level.', default: DEFAULTS.podSecurity.warn },
  'security.podSecurity.audit': { description: 'The audit log records pods violating this level.', default: DEFAULTS.podSecurity.audit },
  'security.podSecurity.exemptNamespaces': { description: 'Namespaces exempt from Pod Security.', default: [] },
  images: { description: 'The images k8s-img builds.' },
  'images.prefix': { description: 'Image tags are <prefix>/<component>:<version>.', default: DEFAULTS.imagePrefix },
  'images.base': { description: 'A Debian-like image with the node tools, instead of a root filesystem made here with mmdebstrap.' },
  binaries: { description: 'Where the component binaries come from.' },
  'binaries.source': { description: 'go: built here from the Go module proxy; release: release archives under releaseURL (checked against their .sha256); dir: a folder of ready binaries.', default: DEFAULTS.binarySource },
  'binaries.dir': { description: "The folder of ready binaries (source: dir), the tutorial's BIN_PATH." },
  'binaries.releaseURL': { description: 'Where release archives are (source: release).' },
  'binaries.goproxy': { description: 'The Go module proxy (source: go); GOPROXY overrides it.', default: DEFAULTS.goproxy },
};

type Node = { type?: string; properties?: Record<string, Node>; items?: Node; additionalProperties?: boolean; description?: string; default?: unknown };

/** The JSON Schema of cluster.yaml. Throws when a field has no entry in FIELD_DOCS (a new field needs its words). */
export function clusterJsonSchema(): Record<string, unknown> {
  const root = z.toJSONSchema(clusterSchema, { io: 'input' }) as Node & Record<string, unknown>;
  const fields = (n: Node, path: string) => {
    if (!n.properties) return;
    n.additionalProperties = false; // unknown keys are errors (load.ts)
    for (const [k, v] of Object.entries(n.properties)) visit(v, path ? `${path}.${k}` : k);
  };
  const visit = (n: Node, path: string) => {
    const doc = FIELD_DOCS[path];
    if (!doc) throw new Error(`json-schema: no description for ${path}`);
    Object.assign(n, doc);
    fields(n, path);
    if (n.items) fields(n.items, path); // a list's items: their fields under the list's path
  };
  visit(root, '');
  return { title: 'k8s-img cluster.yaml', ...root };
}
