// One-shot pods of the workload image, pinned to a node (nodeName passes the control
// plane's taint): the integration suites' and the network benchmark's clients.
import { randomBytes } from 'node:crypto';
import { waitFor, type KubeClient } from '../../src/runtime/kube.js';

const PODS = '/api/v1/namespaces/default/pods';

export async function createPod(kube: KubeClient, image: string, name: string, node: string, args: string[], restartPolicy: 'Always' | 'Never' = 'Always'): Promise<void> {
  await kube.create(PODS, {
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'k8s-img-test' } },
    spec: { nodeName: node, restartPolicy, terminationGracePeriodSeconds: 1, containers: [{ name: 'w', image, args }] },
  });
}

/** The pod's IP once it runs. */
export function podIP(kube: KubeClient, name: string): Promise<string> {
  return waitFor(`${name} running`, 120_000, async () => {
    const p = await kube.get<{ status: { phase: string; podIP?: string } }>(`${PODS}/${name}`);
    return p.status.phase === 'Running' ? p.status.podIP : undefined;
  }, 500);
}

/** Runs the workload with `args` to completion on `node`; its output, or an error carrying it. */
export async function runOnce(kube: KubeClient, image: string, node: string, args: string[]): Promise<string> {
  const name = `client-${randomBytes(3).toString('hex')}`;
  await createPod(kube, image, name, node, args, 'Never');
  const phase = await waitFor(`${name} done`, 180_000, async () => {
    const p = await kube.get<{ status: { phase: string } }>(`${PODS}/${name}`);
    return ['Succeeded', 'Failed'].includes(p.status.phase) ? p.status.phase : undefined;
  }, 500);
  const log = (await kube.text(`${PODS}/${name}/log`)).trim();
  await kube.delete(`${PODS}/${name}?gracePeriodSeconds=0`);
  if (phase !== 'Succeeded') throw new Error(`${args.join(' ')} on ${node}: ${log}`);
  return log;
}
