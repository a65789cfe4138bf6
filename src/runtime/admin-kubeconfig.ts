// The admin kubeconfig handed to the user: credentials embedded, one file to carry.
import YAML from 'yaml';
import type { ClusterPlan } from '../plan/types.js';
import type { Secrets } from '../render/bundle.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function adminKubeconfig(plan: ClusterPlan, secrets: Secrets): string {
  const cluster: Record<string, unknown> = { server: plan.apiServer.url };
  const user: Record<string, unknown> = {};
  if (plan.mode === 'secure') {
    cluster['certificate-authority-data'] = b64(secrets['ca.crt']!);
    user['client-certificate-data'] = b64(secrets['admin.crt']!);
    user['client-key-data'] = b64(secrets['admin.key']!);
  } else {
    cluster['insecure-skip-tls-verify'] = true;
    user.token = secrets['token-admin'];
  }
  const context = `admin@${plan.cluster}`;
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: plan.cluster, cluster }],
    users: [{ name: `admin@${plan.cluster}`, user }],
    contexts: [{ name: context, context: { cluster: plan.cluster, user: `admin@${plan.cluster}` } }],
    'current-context': context,
  });
}
