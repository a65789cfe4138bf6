// The admin kubeconfig handed to the user: credentials embedded, one file to carry.
// Its default context talks to the first control plane; with several, each also has
// a context of its own (`kubectl --context admin@demo-via-sm2`), and k8s-img's own
// client falls over to them when the first does not answer.
import YAML from 'yaml';
import { APISERVER_PORT } from '../plan/ports.js';
import type { ClusterPlan } from '../plan/types.js';
import type { Secrets } from '../render/bundle.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The kubeconfig cluster entry of another control plane of `cluster`. */
export const viaName = (cluster: string, node: string) => `${cluster}-via-${node}`;

export function adminKubeconfig(plan: ClusterPlan, secrets: Secrets): string {
  const tls: Record<string, unknown> = {};
  const user: Record<string, unknown> = {};
  if (plan.mode === 'secure') {
    tls['certificate-authority-data'] = b64(secrets['ca.crt']!);
    user['client-certificate-data'] = b64(secrets['admin.crt']!);
    user['client-key-data'] = b64(secrets['admin.key']!);
  } else {
    tls['insecure-skip-tls-verify'] = true;
    user.token = secrets['token-admin'];
  }
  const userName = `admin@${plan.cluster}`;
  const others = plan.nodes.filter((n) => n.roles.includes('control-plane')).slice(1);
  const clusters = [
    { name: plan.cluster, cluster: { server: plan.apiServer.url, ...tls } },
    ...others.map((n) => ({ name: viaName(plan.cluster, n.name), cluster: { server: `https://${n.address}:${APISERVER_PORT}`, ...tls } })),
  ];
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters,
    users: [{ name: userName, user }],
    contexts: clusters.map((c) => ({ name: `admin@${c.name}`, context: { cluster: c.name, user: userName } })),
    'current-context': `admin@${plan.cluster}`,
  });
}
