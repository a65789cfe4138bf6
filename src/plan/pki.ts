// What certificates a secure cluster needs, derived from the configuration.
// Pure: names, subjects, SANs and usages; runtime/pki-issuer.ts makes the keys.
import type { ResolvedConfig } from '../config/defaults.js';
import { nth, parseCidr } from '../config/net.js';
import { identities } from './files.js';

export type CAName = 'ca' | 'etcd-ca' | 'front-proxy-ca';

export interface CASpec {
  name: CAName; // files <name>.crt and <name>.key in the state folder
  commonName: string;
}

export interface LeafSpec {
  name: string; // files <name>.crt and <name>.key in the state folder
  ca: CAName;
  commonName: string;
  organizations: string[];
  /** client: clientAuth; server: serverAuth; both: etcd, whose server also dials itself. */
  usage: 'client' | 'server' | 'both';
  dnsNames: string[];
  ipAddresses: string[];
}

export interface PkiPlan {
  cas: CASpec[];
  leaves: LeafSpec[];
}

export const CA_YEARS = 10;
export const LEAF_DAYS = 365;

export function pkiPlan(config: ResolvedConfig): PkiPlan {
  const domain = config.networking.dnsDomain;
  const serviceIP = nth(parseCidr(config.networking.serviceCIDR)!, 1);
  const controlPlanes = config.nodes.filter((n) => n.roles.includes('control-plane'));
  const client = (name: string, ca: CAName, commonName: string, organizations: string[] = []): LeafSpec => ({
    name, ca, commonName, organizations, usage: 'client', dnsNames: [], ipAddresses: [],
  });

  const leaves: LeafSpec[] = [
    {
      name: 'apiserver',
      ca: 'ca',
      commonName: 'kube-apiserver',
      organizations: [],
      usage: 'server',
      dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${domain}`, 'localhost', ...controlPlanes.map((n) => n.name)],
      ipAddresses: ['127.0.0.1', serviceIP, ...controlPlanes.map((n) => n.address)],
    },
    {
      // The cluster's registry, served by every control-plane node; containerd checks it against ca.crt.
      name: 'registry',
      ca: 'ca',
      commonName: 'k8s-img-registry',
      organizations: [],
      usage: 'server',
      dnsNames: ['localhost', ...controlPlanes.map((n) => n.name)],
      ipAddresses: ['127.0.0.1', ...controlPlanes.map((n) => n.address)],
    },
    client('apiserver-kubelet-client', 'ca', 'kube-apiserver-kubelet-client'),
    client('apiserver-etcd-client', 'etcd-ca', 'kube-apiserver-etcd-client'),
    client('front-proxy-client', 'front-proxy-ca', 'front-proxy-client'),
    ...identities(config.nodes.map((n) => n.name)).map((i) => client(i.credential, 'ca', i.user, i.groups)),
  ];
  for (const n of config.nodes) {
    leaves.push({ name: `kubelet-serving-${n.name}`, ca: 'ca', commonName: `system:node:${n.name}`, organizations: ['system:nodes'], usage: 'server', dnsNames: [n.name], ipAddresses: [n.address] });
    if (n.roles.includes('etcd')) {
      for (const kind of ['etcd-server', 'etcd-peer']) {
        leaves.push({ name: `${kind}-${n.name}`, ca: 'etcd-ca', commonName: n.name, organizations: [], usage: 'both', dnsNames: ['localhost', n.name], ipAddresses: ['127.0.0.1', n.address] });
      }
    }
  }
  return {
    cas: [
      { name: 'ca', commonName: `${config.name}-ca` },
      { name: 'etcd-ca', commonName: `${config.name}-etcd-ca` },
      { name: 'front-proxy-ca', commonName: `${config.name}-front-proxy-ca` },
    ],
    leaves,
  };
}
