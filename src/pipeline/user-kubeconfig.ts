// The cluster in the user's kubeconfig: `up` merges a context `k8s-img-<cluster>` into
// $KUBECONFIG's first file (or ~/.kube/config), `down` takes it out again, and
// `k8s-img kubeconfig` prints the same entries as a file of their own.
import { existsSync } from 'node:fs';
import YAML from 'yaml';
import type { ClusterPlan } from '../plan/types.js';
import { editKubeconfig, userKubeconfigPath } from '../runtime/kubeconfig-file.js';
import { mergeKubeconfig, removeFromKubeconfig, serverOf, type KubeconfigEntries } from '../runtime/kubeconfig-merge.js';
import { ClusterError } from '../errors.js';
import { adminKubeconfigPath, type LocalCluster } from './local.js';

export const contextName = (cluster: string) => `k8s-img-${cluster}`;

/** The cluster and user of the admin kubeconfig `up` wrote into the state folder, under the context's name. */
export function clusterEntries(cluster: LocalCluster): KubeconfigEntries {
  const path = adminKubeconfigPath(cluster.state);
  const text = cluster.state.read('kubeconfig');
  if (text === undefined) throw new ClusterError(`cluster "${cluster.config.name}" has no admin kubeconfig (${path})`, 'start it with `k8s-img up`');
  const doc = YAML.parse(text) as { clusters: { cluster: Record<string, unknown> }[]; users: { user: Record<string, unknown> }[] };
  return { name: contextName(cluster.config.name), cluster: doc.clusters[0]!.cluster, user: doc.users[0]!.user };
}

/** Merges the cluster's context into the user's kubeconfig and makes it current; returns the file. */
export async function mergeUserKubeconfig(cluster: LocalCluster, env = process.env): Promise<string> {
  const file = userKubeconfigPath(env);
  const entries = clusterEntries(cluster);
  await editKubeconfig(file, (text) => mergeKubeconfig(text, entries, file));
  return file;
}

/**
 * Takes the cluster's context out of the user's kubeconfig — only when it still points
 * at this cluster's API server (an entry of that name the user re-pointed stays).
 * Returns the file when something was removed.
 */
export async function removeUserKubeconfig(plan: ClusterPlan, env = process.env): Promise<string | undefined> {
  const file = userKubeconfigPath(env);
  if (!existsSync(file)) return undefined;
  const name = contextName(plan.cluster);
  const removed = await editKubeconfig(file, (text) => {
    const server = serverOf(text, name);
    if (server !== undefined && server !== plan.apiServer.url) return undefined;
    return removeFromKubeconfig(text, name, file);
  });
  return removed ? file : undefined;
}
