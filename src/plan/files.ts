// Helpers for the files a component takes from its bundle folder.
import { APISERVER_PORT } from './ports.js';
import type { NodeContext } from './context.js';
import type { FileSpec } from './types.js';

/** Where a service finds its certificates and keys inside its container. */
export const pki = (name: string) => `/etc/kubernetes/pki/${name}`;

export const secret = (path: string, name: string): FileSpec => ({
  path,
  mode: name.endsWith('.key') ? 0o600 : 0o644,
  secret: name,
});

/** Client identity of each kubeconfig user; per-node users carry the node name. */
export function credentialName(c: NodeContext, user: string): string {
  return user === 'kubelet' ? `kubelet-${c.node.name}` : user;
}

export interface Identity {
  credential: string; // names the token (simple) or certificate (secure) in the state folder
  user: string;
  groups: string[];
}

/** Who each component is to the apiserver: a certificate subject in secure mode, a static token in simple mode. */
export function identities(nodes: string[]): Identity[] {
  return [
    { credential: 'admin', user: 'kubernetes-admin', groups: ['system:masters'] },
    { credential: 'controller-manager', user: 'system:kube-controller-manager', groups: [] },
    { credential: 'scheduler', user: 'system:kube-scheduler', groups: [] },
    { credential: 'kube-proxy', user: 'system:kube-proxy', groups: [] },
    { credential: 'calico-node', user: 'calico-node', groups: [] },
    { credential: 'calico-cni', user: 'calico-cni', groups: [] },
    { credential: 'calico-kube-controllers', user: 'calico-kube-controllers', groups: [] },
    ...nodes.map((n) => ({ credential: `kubelet-${n}`, user: `system:node:${n}`, groups: ['system:nodes'] })),
  ];
}

/**
 * A kubeconfig plus (in secure mode) the client certificate it names.
 * Control-plane components talk to their own node's apiserver; the rest to the node's
 * api-lb, which reaches every control plane (so losing one leaves the node connected).
 */
export function kubeconfig(c: NodeContext, path: string, user: string, pkiDir = '/etc/kubernetes/pki'): FileSpec[] {
  const local = ['controller-manager', 'scheduler', 'admin'].includes(user) && c.has('control-plane');
  const cred = credentialName(c, user);
  const pkiRel = pkiDir.startsWith('/etc/kubernetes/') ? pkiDir.slice('/etc/kubernetes/'.length) : 'pki';
  const spec: FileSpec = {
    path,
    mode: 0o600,
    template: 'kubeconfig.yaml',
    data: {
      cluster: c.config.name,
      server: local ? `https://${c.node.address}:${APISERVER_PORT}` : c.nodeAPIEndpoint,
      user,
      secure: c.secure,
      token: c.secure ? '' : { $secret: `token-${cred}` },
      ca: `${pkiDir}/ca.crt`,
      cert: `${pkiDir}/${cred}.crt`,
      key: `${pkiDir}/${cred}.key`,
    },
  };
  if (!c.secure) return [spec];
  return [
    spec,
    { path: `${pkiRel}/ca.crt`, mode: 0o644, secret: 'ca.crt' },
    { path: `${pkiRel}/${cred}.crt`, mode: 0o644, secret: `${cred}.crt` },
    { path: `${pkiRel}/${cred}.key`, mode: 0o600, secret: `${cred}.key` },
  ];
}
