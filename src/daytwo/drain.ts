// cordon, drain (the Eviction API, so PodDisruptionBudgets hold), uncordon.
import { ClusterError } from '../errors.js';
import { KubeApiError, waitFor, type KubeClient } from '../runtime/kube.js';

interface Pod {
  metadata: { name: string; namespace: string; ownerReferences?: { kind: string }[]; annotations?: Record<string, string> };
  status: { phase: string };
}

export async function cordon(kube: KubeClient, node: string, on: boolean): Promise<void> {
  await kube.patch(`/api/v1/nodes/${node}`, { spec: { unschedulable: on ? true : null } }, 'merge');
}

/** Pods a drain moves: not mirror pods, not DaemonSet pods, not finished. */
async function movable(kube: KubeClient, node: string): Promise<Pod[]> {
  const list = await kube.get<{ items: Pod[] }>(`/api/v1/pods?fieldSelector=spec.nodeName%3D${encodeURIComponent(node)}`);
  return list.items.filter(
    (p) => !p.metadata.annotations?.['kubernetes.io/config.mirror'] && !p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') && !['Succeeded', 'Failed'].includes(p.status.phase),
  );
}

export async function drain(kube: KubeClient, node: string, timeoutMs: number, update: (d: string) => void): Promise<void> {
  await waitFor(`node ${node} drained`, timeoutMs, async () => {
    const pods = await movable(kube, node);
    update(`${pods.length} pod(s) to move`);
    if (pods.length === 0) return true;
    for (const p of pods) {
      try {
        await kube.create(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/eviction`, {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: p.metadata.name, namespace: p.metadata.namespace },
        });
      } catch (e) {
        // 429: a PodDisruptionBudget says not now; 404: gone already. Both: try again next round.
        if (!(e instanceof KubeApiError) || ![404, 429].includes(e.status)) throw e;
      }
    }
    return undefined;
  }, 2000).catch((e: unknown) => {
    throw new ClusterError(`draining ${node} did not finish: ${(e as Error).message}`, `the node stays cordoned; see \`kubectl get pods -A -o wide --field-selector spec.nodeName=${node}\`, then rerun the upgrade (it resumes)`, { cause: e });
  });
}
