// The commented starter cluster.yaml of `k8s-img init`. Built as a YAML document
// from data and then stringified: no value is ever pasted into YAML text, so an
// imported value such as "/opt/bin, goproxy: http://evil" stays one quoted string.
import YAML, { isMap, isScalar, type Node } from 'yaml';
import { resolveDefaults } from './defaults.js';
import type { ClusterConfig } from './schema.js';
import { DEFAULT_RELEASE } from './versions.js';

const BEFORE: Record<string, string> = {
  ssh: [
    ' How `k8s-img deploy` reaches the machines: user, port, identityFile (a private key;',
    ' default ~/.ssh/id_ed25519, id_ecdsa, id_rsa, or an ssh-agent). ~/.ssh/config is read',
    ' for each address (HostName, User, Port, IdentityFile). Passwords are not accepted.',
    ' A node may override these with an ssh block of its own.',
  ].join('\n'),
  nodes: [
    ' Roles combine freely: control-plane (apiserver, controller-manager, scheduler),',
    ' etcd (a member of the etcd cluster), worker (runs pods). Every node runs',
    ' kubelet, kube-proxy and calico-node.',
  ].join('\n'),
  security: [
    ' secure: TLS everywhere, RBAC, client certificates (the default).',
    ' simple: the tutorial\'s first flavour: no authentication, for learning only.',
    ' podSecurity (secure mode): Pod Security levels for every namespace that sets none by label',
    ' (pod-security.kubernetes.io/enforce=...); add exemptNamespaces: [...] to exempt some.',
  ].join('\n'),
  binaries: [
    ' Where the component binaries come from:',
    '   go      - built here from the Go module proxy (honours GOPROXY / binaries.goproxy)',
    '   release - release archives under binaries.releaseURL, checked against their .sha256 files',
    '   dir     - a folder of ready binaries (the tutorial\'s BIN_PATH), set binaries.dir',
  ].join('\n'),
};

const AFTER: Record<string, string> = {
  'networking.podCIDR': ' Calico\'s IP pool; must not overlap the nodes or services',
  'networking.serviceCIDR': ' ClusterIP range; its first address is the "kubernetes" Service',
  'networking.clusterDNS': ' CoreDNS\'s Service IP, inside serviceCIDR',
  'networking.nodePortRange': ' add upstreamDNS: [192.168.232.1] to pick where CoreDNS forwards other names (default: the node\'s resolv.conf)',
  'networking.calico': ' vxlan works across routed networks too; bgp is the tutorial\'s mesh (nodes on one L2 network, asNumber 64512)',
  images: ' tags are <prefix>/<component>:<version>',
};

export function starterText(c: ClusterConfig, file: string): string {
  const r = resolveDefaults(c);
  const data = {
    apiVersion: c.apiVersion,
    kind: c.kind,
    name: r.name,
    ...(c.kubernetesVersion ? { kubernetesVersion: c.kubernetesVersion } : {}),
    ...(r.ssh ? { ssh: r.ssh } : {}),
    nodes: r.nodes.map((n) => ({ name: n.name, address: n.address, roles: n.roles, ...(n.ssh ? { ssh: n.ssh } : {}) })),
    networking: {
      podCIDR: r.networking.podCIDR,
      serviceCIDR: r.networking.serviceCIDR,
      clusterDNS: r.networking.clusterDNS,
      dnsDomain: r.networking.dnsDomain,
      nodePortRange: r.networking.nodePortRange,
      ...(r.networking.upstreamDNS ? { upstreamDNS: r.networking.upstreamDNS } : {}),
      calico: r.networking.calico.backend === 'bgp' ? r.networking.calico : { backend: r.networking.calico.backend, mtu: r.networking.calico.mtu },
    },
    security: { mode: r.security.mode, podSecurity: { enforce: r.security.podSecurity.enforce, warn: r.security.podSecurity.warn, audit: r.security.podSecurity.audit } },
    images: { prefix: r.images.prefix },
    binaries: { source: r.binaries.source, ...(r.binaries.dir ? { dir: r.binaries.dir } : {}) },
  };
  const doc = new YAML.Document(data);
  doc.commentBefore = [
    ' k8s-img cluster configuration. Reference: README.md ("Configuration").',
    ` Check it with \`k8s-img validate -c ${file}\`, see the result with \`k8s-img plan -c ${file}\`.`,
    ` kubernetesVersion defaults to ${DEFAULT_RELEASE.kubernetes} (the tested one); \`k8s-img versions\` lists the others.`,
  ].join('\n');
  const top = doc.contents as YAML.YAMLMap<YAML.Scalar<string>, Node>;
  for (const pair of top.items) {
    const key = pair.key.value;
    if (BEFORE[key]) {
      pair.key.commentBefore = BEFORE[key];
      pair.key.spaceBefore = true;
    }
    if (['ssh', 'security', 'images', 'binaries'].includes(key) && isMap(pair.value)) pair.value.flow = true;
  }
  for (const n of (doc.get('nodes', true) as YAML.YAMLSeq<Node>).items) if (isMap(n)) n.flow = true;
  (doc.getIn(['networking', 'calico'], true) as YAML.YAMLMap).flow = true;
  for (const [path, comment] of Object.entries(AFTER)) {
    const node = doc.getIn(path.split('.'), true);
    if (isScalar(node) || isMap(node)) node.comment = comment;
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
