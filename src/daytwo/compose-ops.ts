// Compose on a node for day-two work: run a compose command in the bundle folder,
// wait for a service's health as the node's engine reports it.
import { waitFor } from '../runtime/kube.js';
import type { NodeAccess } from '../runtime/node-access.js';
import { must } from './etcd-node.js';

export async function composeOn(node: NodeAccess, args: string[], what: string): Promise<void> {
  await must(node, ['docker', 'compose', ...args], what, node.bundleDir);
}

async function healthOf(node: NodeAccess, container: string): Promise<string> {
  const r = await node.exec(['docker', 'inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}', container]);
  return r.code === 0 ? r.stdout.trim() : 'missing';
}

export async function waitHealthy(nodes: NodeAccess[], service: string, timeoutMs: number, update: (d: string) => void): Promise<void> {
  await waitFor(`${service} healthy on ${nodes.map((n) => n.node).join(', ')}`, timeoutMs, async () => {
    const states = await Promise.all(nodes.map(async (n) => [n.node, await healthOf(n, `k8s-img-${service}`)] as const));
    update(states.map(([n, s]) => `${n}: ${s}`).join(', '));
    return states.every(([, s]) => s === 'healthy') ? true : undefined;
  });
}
