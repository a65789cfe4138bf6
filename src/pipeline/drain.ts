// `kubectl drain` for a node that leaves the cluster: cordon it, evict its pods
// through the Eviction API (so PodDisruptionBudgets hold), wait for them to go;
// pods of a node that no longer answers are deleted outright after a while, as
// nothing there can confirm their end.
import { ClusterError } from '../errors.js';
import { KubeApiError, type KubeClient } from '../runtime/kube.js';

interface Pod {
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; ownerReferences?: { kind: string }[] };
  status: { phase?: string };
}

export interface DrainResult {
  evicted: number;
  forced: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function podsOn(kube: KubeClient, node: string): Promise<Pod[]> {
  const list = await kube.get<{ items: Pod[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
  // Mirror pods (static pods) and DaemonSet pods stay, as with kubectl drain; finished pods do not matter.
  return list.items.filter(
    (p) => !p.metadata.annotations?.['kubernetes.io/config.mirror'] && !p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') && !['Succeeded', 'Failed'].includes(p.status.phase ?? ''),
  );
}

export async function drainNode(kube: KubeClient, node: string, update: (d: string) => void, timeoutMs = 120_000, forceAfterMs = 45_000): Promise<DrainResult> {
  if (!(await kube.getOrUndefined(`/api/v1/nodes/${node}`))) return { evicted: 0, forced: 0 };
  await kube.patch(`/api/v1/nodes/${node}`, { spec: { unschedulable: true } }, 'merge');
  const started = Date.now();
  const evicted = new Set<string>();
  let forced = 0;
  for (;;) {
    const pods = await podsOn(kube, node);
    if (pods.length === 0) return { evicted: evicted.size, forced };
    update(`${pods.length} pods left on ${node}`);
    const late = Date.now() - started > forceAfterMs;
    for (const p of pods) {
      const path = `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`;
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      try {
        if (late) {
          await kube.delete(`${path}?gracePeriodSeconds=0`);
          forced++;
        } else if (!evicted.has(key)) {
          await kube.create(`${path}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: p.metadata.namespace } });
          evicted.add(key);
        }
      } catch (e) {
        // 429: a disruption budget says not yet; 404: already gone. Both are retried or done.
        if (!(e instanceof KubeApiError && (e.status === 429 || e.status === 404))) throw e;
      }
    }
    if (Date.now() - started > timeoutMs) {
      throw new ClusterError(`draining ${node}: ${pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ')} still there after ${timeoutMs / 1000} s`, 'see why they do not end (kubectl describe pod), then run again');
    }
    await sleep(1000);
  }
}
