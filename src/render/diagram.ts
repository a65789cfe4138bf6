// The plan as a picture for the terminal: one box per node, one row per service
// with its ports and privileges. Pure.
import type { ClusterPlan, NodePlan, ServicePlan } from '../plan/types.js';

function ports(s: ServicePlan): string {
  return s.ports.map((p) => `${p.bind === '127.0.0.1' ? 'lo:' : ':'}${p.port}${p.protocol === 'udp' ? '/udp' : ''}`).join(' ');
}

function traits(s: ServicePlan): string {
  const t: string[] = [];
  if (s.oneshot) t.push('one-shot');
  if (s.privileges.privileged) t.push('privileged');
  else t.push(s.privileges.readOnlyRootfs ? 'no caps, ro' : 'no caps');
  if (s.privileges.pidHost) t.push('pid=host');
  return t.join(', ');
}

function box(title: string, rows: string[][], widths: number[]): string[] {
  const inner = Math.max(widths.reduce((a, b) => a + b + 2, 0), title.length + 4);
  const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - s.length));
  const lines = [`┌─ ${title} ${'─'.repeat(Math.max(0, inner - title.length - 3))}┐`];
  for (const r of rows) lines.push(`│ ${pad(r.map((c, i) => pad(c, widths[i]!)).join('  '), inner - 1)}│`);
  lines.push(`└${'─'.repeat(inner)}┘`);
  return lines;
}

function nodeBox(n: NodePlan): string[] {
  const rows = n.services.map((s) => [s.name, ports(s), traits(s)]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return box(`${n.name}  ${n.address}  [${n.roles.join(', ')}]`, rows, widths);
}

export function renderDiagram(plan: ClusterPlan): string {
  const net = plan.networking;
  const out = [
    `cluster ${plan.cluster} — Kubernetes v${plan.versions.kubernetes}, ${plan.mode} mode, Calico ${plan.versions.calico.release} (${net.calicoBackend === 'bgp' ? `BGP mesh, AS ${net.asNumber}` : net.calicoBackend}, MTU ${net.mtu})`,
    `API ${plan.apiServer.url}, on every node ${plan.apiServer.nodeEndpoint} (api-lb over ${plan.apiServer.addresses.length} control plane${plan.apiServer.addresses.length === 1 ? '' : 's'})   etcd ${plan.etcd.members.map((m) => `${m.name}@${m.address}`).join(', ')}`,
    `pods ${net.podCIDR}   services ${net.serviceCIDR}   DNS ${net.clusterDNS} (${net.dnsDomain})   NodePorts ${net.nodePortRange}`,
    `registry ${plan.registry.endpoints.join(', ')} (read-only; every pod image, for every registry name)`,
    '',
  ];
  for (const n of plan.nodes) {
    const served = plan.registry.nodes.includes(n.name) ? `; registry: ${plan.registry.images.join(', ')}` : '';
    out.push(...nodeBox(n), `  images: ${n.images.join(', ')}${served}`, '');
  }
  out.push('All services use the node\'s network (host networking); "lo:" ports listen on 127.0.0.1 only.');
  return out.join('\n') + '\n';
}
