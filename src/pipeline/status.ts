// status: the tutorial's checks in one command. Per node, every service's health
// as the node's Docker engine sees it (the probe's URL and output, the last log
// lines on failure); per cluster, the API, etcd, nodes, Calico and CoreDNS.
import { existsSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { planCluster } from '../plan/plan.js';
import { names } from '../plan/names.js';
import type { ClusterPlan, NodePlan } from '../plan/types.js';
import type { NodeHost, NodeProvider } from '../providers/types.js';
import { KubeClient, credentialsFromKubeconfig } from '../runtime/kube.js';
import type { StateDir } from '../runtime/state.js';
import { judgeMesh, parseNodeStatus } from './bgp-status.js';
import { adminKubeconfigPath, type ClusterHandle } from './cluster.js';
import { inspectServices, judgeService, serviceLogs } from './node-ops.js';

export interface Check {
  scope: string; // node name, or "cluster"
  name: string;
  ok: boolean;
  /** Could not be checked from here (e.g. the node is a real machine, not a local node container). */
  skipped?: boolean;
  detail: string;
  url?: string;
  logs?: string[];
}

async function nodeChecks(provider: NodeProvider | undefined, plan: ClusterPlan, node: NodePlan): Promise<Check[]> {
  if (!provider) {
    return [{ scope: node.name, name: 'services', ok: true, skipped: true, detail: 'not a node k8s-img started: run `docker compose ps` on the machine for per-service health' }];
  }
  let host: NodeHost;
  try {
    host = await provider.connect(node.name);
  } catch (e) {
    return [{ scope: node.name, name: 'node', ok: false, detail: (e as Error).message, url: provider.kind === 'local' ? `docker://${names.node(plan.cluster, node.name)}` : `ssh://${node.address}` }];
  }
  const found = await inspectServices(host, node.services);
  const checks: Check[] = [];
  for (const s of node.services) {
    const { ok, detail } = judgeService(s, found.get(names.service(s.name)));
    const base = { scope: node.name, name: s.name, ok, detail, ...(s.health ? { url: s.health.url } : {}) };
    checks.push(ok ? base : { ...base, logs: await serviceLogs(host, s.name) });
  }
  checks.push(versionCheck(node, found));
  if (plan.networking.calicoBackend === 'bgp') checks.push(await bgpCheck(host, plan, node));
  return checks;
}

/** Which version each long-running service runs (its image's tag), and whether it is the plan's: mid-upgrade, the ones behind. */
export function versionCheck(node: NodePlan, found: Map<string, { Config?: { Image?: string } }>): Check {
  const byTag = new Map<string, string[]>();
  const behind: string[] = [];
  for (const s of node.services.filter((x) => !x.oneshot)) {
    const running = found.get(names.service(s.name))?.Config?.Image;
    if (!running) continue;
    const tag = running.slice(running.lastIndexOf(':') + 1);
    byTag.set(tag, [...(byTag.get(tag) ?? []), s.name]);
    if (running !== s.image) behind.push(`${s.name} runs ${running}, the plan says ${s.image}`);
  }
  const detail = [...byTag].map(([tag, list]) => `${tag}: ${list.join(', ')}`).join('; ');
  return { scope: node.name, name: 'running versions', ok: behind.length === 0, detail: behind.length ? `${detail} — ${behind.join('; ')}` : detail };
}

/** The tutorial's `calicoctl node status`, run in the node's calico-node container. */
async function bgpCheck(host: NodeHost, plan: ClusterPlan, node: NodePlan): Promise<Check> {
  const container = names.service('calico-node');
  const base = { scope: node.name, name: 'BGP peers', url: `docker exec ${container} calicoctl node status` };
  const r = await host.exec(['docker', 'exec', container, 'calicoctl', 'node', 'status']).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  if (r.code !== 0) return { ...base, ok: false, detail: 'calicoctl node status failed', logs: `${r.stdout}${r.stderr}`.trim().split('\n').filter(Boolean) };
  const verdict = judgeMesh(plan, node, parseNodeStatus(r.stdout));
  return { ...base, ...verdict, ...(verdict.ok ? {} : { logs: r.stdout.trim().split('\n') }) };
}

/** etcd's /health on each member's client URL, as `etcdctl endpoint health` does (with the apiserver's etcd client certificate). */
async function etcdChecks(plan: ClusterPlan, state: StateDir): Promise<Check[]> {
  const tls = plan.mode === 'secure' ? { ca: state.read('etcd-ca.crt'), cert: state.read('apiserver-etcd-client.crt'), key: state.read('apiserver-etcd-client.key') } : {};
  return Promise.all(
    plan.etcd.members.map(async (m, i) => {
      const url = `${plan.etcd.endpoints[i]}/health`;
      const t = Date.now();
      const r = await getUrl(url, tls).catch((e: Error) => ({ status: 0, body: e.message }));
      const ok = r.status === 200 && /"health":\s*"true"/.test(r.body);
      return { scope: 'cluster', name: `etcd ${m.name}`, ok, detail: `${r.body.trim().slice(0, 120)} (${Date.now() - t} ms)`, url };
    }),
  );
}

function getUrl(url: string, tls: { ca?: string; cert?: string; key?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { ...tls, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout after 5 s')));
    req.on('error', reject);
  });
}

interface NodeObject {
  metadata: { name: string; annotations?: Record<string, string> };
  status: { conditions?: { type: string; status: string; message?: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

async function apiChecks(kube: KubeClient, plan: ClusterPlan): Promise<Check[]> {
  const checks: Check[] = [];
  const ready = await kube.raw('GET', '/readyz?verbose');
  checks.push({
    scope: 'cluster',
    name: 'kube-apiserver /readyz',
    ok: ready.status === 200,
    detail: ready.status === 200 ? 'ok' : ready.text.split('\n').filter((l) => l.startsWith('[-]')).join('; '),
    url: `${plan.apiServer.url}/readyz`,
  });
  if (ready.status !== 200) return checks;
  const version = await kube.get<{ gitVersion: string }>('/version');
  checks.push({ scope: 'cluster', name: 'kube-apiserver version', ok: version.gitVersion === `v${plan.versions.kubernetes}`, detail: `${version.gitVersion} (the plan: v${plan.versions.kubernetes})`, url: `${plan.apiServer.url}/version` });

  const nodes = await kube.get<{ items: NodeObject[] }>('/api/v1/nodes');
  for (const n of plan.nodes) {
    const obj = nodes.items.find((i) => i.metadata.name === n.name);
    const cond = obj?.status.conditions?.find((c) => c.type === 'Ready');
    checks.push({ scope: n.name, name: 'node Ready', ok: cond?.status === 'True', detail: obj ? `${cond?.status === 'True' ? 'Ready' : `NotReady: ${cond?.message ?? ''}`}, kubelet ${obj.status.nodeInfo?.kubeletVersion ?? '?'}` : 'not registered' });
    const a = obj?.metadata.annotations ?? {};
    const tunnel = a['projectcalico.org/IPv4VXLANTunnelAddr'];
    const vxlan = plan.networking.calicoBackend === 'vxlan';
    const as = a['projectcalico.org/ASNumber'];
    checks.push({
      scope: n.name,
      name: 'calico node',
      ok: Boolean(a['projectcalico.org/IPv4Address']) && (vxlan ? Boolean(tunnel) : as === String(plan.networking.asNumber)),
      detail: `address ${a['projectcalico.org/IPv4Address'] ?? 'none'}${vxlan ? `, VXLAN tunnel ${tunnel ?? 'none'}` : `, AS ${as ?? 'none'}`}`,
    });
  }

  const pools = await kube.getOrUndefined<{ items: { metadata: { name: string }; spec: { cidr: string; vxlanMode?: string; ipipMode?: string; natOutgoing?: boolean } }[] }>(
    '/apis/crd.projectcalico.org/v1/ippools',
  );
  const pool = pools?.items.find((p) => p.spec.cidr === plan.networking.podCIDR);
  checks.push({
    scope: 'cluster',
    name: 'calico IP pool',
    ok: Boolean(pool),
    detail: pool ? `${pool.metadata.name} ${pool.spec.cidr} vxlan=${pool.spec.vxlanMode} ipip=${pool.spec.ipipMode} natOutgoing=${pool.spec.natOutgoing}` : `no pool for ${plan.networking.podCIDR}`,
  });

  const dns = await kube.getOrUndefined<{ spec: { replicas: number }; status: { readyReplicas?: number } }>('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
  checks.push({
    scope: 'cluster',
    name: 'CoreDNS',
    ok: Boolean(dns) && (dns!.status.readyReplicas ?? 0) >= dns!.spec.replicas,
    detail: dns ? `${dns.status.readyReplicas ?? 0}/${dns.spec.replicas} ready, Service ${plan.networking.clusterDNS}` : 'not deployed',
  });
  return checks;
}

/**
 * `provider` reaches the nodes (local node containers, or machines over SSH); without
 * one (machines set up by hand), only the cluster-level checks run.
 */
export async function clusterStatus(cluster: ClusterHandle, provider: NodeProvider | undefined): Promise<{ plan: ClusterPlan; checks: Check[] }> {
  const plan = planCluster(cluster.config);
  const checks: Check[] = [];
  checks.push(...(await Promise.all(plan.nodes.map((n) => nodeChecks(provider, plan, n)))).flat());
  checks.push(...(await etcdChecks(plan, cluster.state)));
  const kubeconfig = adminKubeconfigPath(cluster.state);
  if (!existsSync(kubeconfig)) {
    checks.push({ scope: 'cluster', name: 'kube-apiserver', ok: false, detail: `no admin kubeconfig at ${kubeconfig}`, url: plan.apiServer.url });
    return { plan, checks };
  }
  const kube = new KubeClient(credentialsFromKubeconfig(kubeconfig));
  try {
    checks.push(...(await apiChecks(kube, plan)));
  } catch (e) {
    checks.push({ scope: 'cluster', name: 'kube-apiserver', ok: false, detail: (e as Error).message, url: plan.apiServer.url });
  } finally {
    kube.close();
  }
  // Node by node in config order, then the cluster-wide checks.
  const rank = (c: Check) => (c.scope === 'cluster' ? plan.nodes.length : plan.nodes.findIndex((n) => n.name === c.scope));
  return { plan, checks: checks.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map((x) => x.c) };
}

export function formatChecks(checks: Check[]): string {
  const out: string[] = [];
  let scope = '';
  for (const c of checks) {
    if (c.scope !== scope) {
      scope = c.scope;
      out.push(scope === 'cluster' ? 'cluster' : `node ${scope}`);
    }
    out.push(`  ${c.skipped ? '-' : c.ok ? '✓' : '✗'} ${c.name.padEnd(26)} ${c.detail}`);
    if (!c.ok && c.url) out.push(`      probed: ${c.url}`);
    for (const l of c.ok ? [] : (c.logs ?? [])) out.push(`      | ${l.slice(0, 160)}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  const run = checks.filter((c) => !c.skipped).length;
  out.push('', failed === 0 ? `all ${run} checks passed${run < checks.length ? ` (${checks.length - run} skipped)` : ''}` : `${failed} of ${run} checks failed`);
  return `${out.join('\n')}\n`;
}
