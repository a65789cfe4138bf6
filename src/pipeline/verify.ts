// verify: a smoke test of a running cluster, the way conformance smoke tests do
// it — real pods on real nodes, talking over the pod network, through Services
// and DNS, and a Deployment rolling out an update. Uses the workload image
// built by k8s-img, pulled with `Always`: every pod start goes through the
// cluster's own registry, as an air-gapped cluster's must.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { ClusterError } from '../errors.js';
import type { ClusterPlan } from '../plan/types.js';
import { KubeClient, readyNodes, waitFor } from '../runtime/kube.js';

export interface VerifyResult {
  name: string;
  ok: boolean;
  seconds: number;
  detail: string;
}

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

const WORKLOAD_PORT = 8080;
const UDP_PORT = 8081;

export class Verifier {
  readonly ns = `k8s-img-verify-${randomBytes(3).toString('hex')}`;
  private readonly image: string;
  constructor(private readonly kube: KubeClient, private readonly plan: ClusterPlan, private readonly log: (r: VerifyResult) => void = () => {}) {
    this.image = plan.images.workload;
  }

  private pods = (p = '') => `/api/v1/namespaces/${this.ns}/pods${p}`;

  private podSpec(name: string, node: string, args: string[], labels: Record<string, string> = {}, restart = 'Always'): object {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'k8s-img-verify', ...labels } },
      spec: {
        nodeName: node,
        restartPolicy: restart,
        terminationGracePeriodSeconds: 1,
        // Pod Security "restricted": no warnings under the defaults of secure mode.
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'workload', image: this.image, imagePullPolicy: 'Always', args, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      },
    };
  }

  private async waitRunning(name: string): Promise<Pod> {
    return waitFor(`pod ${name} Running and Ready`, 120_000, async () => {
      const p = await this.kube.get<Pod>(this.pods(`/${name}`));
      return p.status.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    }, 500);
  }

  /** Runs the workload as a one-shot client pod on `node`; returns its output, throws with it on failure. */
  private async client(node: string, args: string[]): Promise<string> {
    const name = `client-${randomBytes(3).toString('hex')}`;
    // Go's flag parsing stops at the first argument: flags go right after the subcommand.
    await this.kube.create(this.pods(), this.podSpec(name, node, [args[0]!, '-timeout', '40s', ...args.slice(1)], {}, 'Never'));
    const phase = await waitFor(`client pod ${name}`, 120_000, async () => {
      const p = await this.kube.get<Pod>(this.pods(`/${name}`));
      return p.status.phase === 'Succeeded' || p.status.phase === 'Failed' ? p.status.phase : undefined;
    }, 500);
    const logs = (await this.kube.text(this.pods(`/${name}/log`)).catch((e: Error) => e.message)).trim();
    await this.kube.delete(this.pods(`/${name}?gracePeriodSeconds=0`));
    if (phase !== 'Succeeded') throw new Error(`${args.join(' ')} from ${node} failed: ${logs.split('\n').at(-1)}`);
    return logs;
  }

  private async check(name: string, fn: () => Promise<string>): Promise<VerifyResult> {
    const t = Date.now();
    let r: VerifyResult;
    try {
      r = { name, ok: true, seconds: (Date.now() - t) / 1000, detail: await fn() };
      r.seconds = (Date.now() - t) / 1000;
    } catch (e) {
      r = { name, ok: false, seconds: (Date.now() - t) / 1000, detail: (e as Error).message };
    }
    this.log(r);
    return r;
  }

  async run(): Promise<VerifyResult[]> {
    // Workers that are Ready: a cluster that lost a node must still pass on the others.
    const ready = new Set(await readyNodes(this.kube));
    const workers = this.plan.nodes.filter((n) => n.roles.includes('worker') && ready.has(n.name));
    if (workers.length === 0) throw new ClusterError('no Ready worker node: verify needs somewhere to run pods', 'give a node the worker role, or see `k8s-img status` for why none is Ready');
    const a = workers[0]!;
    const b = workers[1] ?? a;
    const cross = a !== b;
    const results: VerifyResult[] = [];
    const add = async (name: string, fn: () => Promise<string>) => results.push(await this.check(name, fn));
    const servers: Record<string, Pod> = {};
    try {
      await this.kube.create('/api/v1/namespaces', { metadata: { name: this.ns, labels: { 'app.kubernetes.io/managed-by': 'k8s-img-verify' } } });
      await add(`pods are scheduled and start (${a.name}${cross ? `, ${b.name}` : ''})`, async () => {
        for (const n of new Set([a, b])) await this.kube.create(this.pods(), this.podSpec(`server-${n.name}`, n.name, ['serve'], { app: 'server', node: n.name }));
        for (const n of new Set([a, b])) servers[n.name] = await this.waitRunning(`server-${n.name}`);
        return Object.values(servers).map((p) => `${p.metadata.name} ${p.status.podIP}`).join(', ');
      });
      const ip = (n: { name: string }) => servers[n.name]?.status.podIP ?? 'none';
      await add(`pod → pod, TCP, same node (${a.name})`, () => this.client(a.name, ['http', `http://${ip(a)}:${WORKLOAD_PORT}/`]));
      await add(`pod → pod, UDP, same node (${a.name})`, () => this.client(a.name, ['udp', `${ip(a)}:${UDP_PORT}`]));
      if (cross) {
        await add(`pod → pod, TCP, across nodes (${a.name} → ${b.name})`, () => this.client(a.name, ['http', `http://${ip(b)}:${WORKLOAD_PORT}/`]));
        await add(`pod → pod, UDP, across nodes (${a.name} → ${b.name})`, () => this.client(a.name, ['udp', `${ip(b)}:${UDP_PORT}`]));
      }
      const svc = await this.kube.create<{ spec: { clusterIP: string; ports: { nodePort: number }[] } }>(`/api/v1/namespaces/${this.ns}/services`, {
        metadata: { name: 'web' },
        spec: {
          type: 'NodePort',
          selector: { app: 'server', node: b.name },
          ports: [{ name: 'http', port: 80, targetPort: WORKLOAD_PORT, protocol: 'TCP' }],
        },
      });
      await add(`ClusterIP Service → pod on ${b.name} (from ${a.name})`, async () => {
        const out = await this.client(a.name, ['http', `http://${svc.spec.clusterIP}/`]);
        if (!out.includes(`server-${b.name}`)) throw new Error(`answered by ${out}, expected server-${b.name}`);
        return `${svc.spec.clusterIP}:80 answered ${out}`;
      });
      const nodePort = svc.spec.ports[0]!.nodePort;
      await add(`NodePort ${a.address}:${nodePort} → pod on ${b.name}`, () => httpGetRetry(`http://${a.address}:${nodePort}/`, 40_000));
      const domain = this.plan.networking.dnsDomain;
      await add('DNS resolves a Service name', async () => {
        const out = await this.client(a.name, ['resolve', `web.${this.ns}.svc.${domain}`]);
        if (!out.split(/\s+/).includes(svc.spec.clusterIP)) throw new Error(`got ${out}, expected ${svc.spec.clusterIP}`);
        return `web.${this.ns}.svc.${domain} → ${out}`;
      });
      await add('a Deployment rolls out an update', () => this.rollout());
      await add('pods are removed', async () => {
        await this.kube.delete(`/api/v1/namespaces/${this.ns}/pods/server-${a.name}?gracePeriodSeconds=0`);
        await waitFor('server pod gone', 60_000, async () => ((await this.kube.getOrUndefined(this.pods(`/server-${a.name}`))) ? undefined : true), 500);
        return `server-${a.name} deleted`;
      });
    } finally {
      await this.kube.delete(`/api/v1/namespaces/${this.ns}`).catch(() => undefined);
    }
    return results;
  }

  private async rollout(): Promise<string> {
    const path = `/apis/apps/v1/namespaces/${this.ns}/deployments`;
    const replicas = 2;
    const template = (rev: string) => ({
      metadata: { labels: { app: 'rollout' }, annotations: { 'k8s-img.io/revision': rev } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'workload', image: this.image, imagePullPolicy: 'Always', args: ['serve'], readinessProbe: { httpGet: { path: '/', port: WORKLOAD_PORT }, periodSeconds: 1 } }] },
    });
    await this.kube.create(path, { metadata: { name: 'rollout' }, spec: { replicas, selector: { matchLabels: { app: 'rollout' } }, template: template('1') } });
    const done = (gen: number) =>
      waitFor(`rollout to generation ${gen}`, 120_000, async () => {
        const d = await this.kube.get<{ metadata: { generation: number }; status: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number } }>(`${path}/rollout`);
        const s = d.status;
        return (s.observedGeneration ?? 0) >= gen && s.updatedReplicas === replicas && s.availableReplicas === replicas && s.replicas === replicas ? true : undefined;
      }, 500);
    await done(1);
    await this.kube.patch(`${path}/rollout`, { spec: { template: template('2') } }, 'merge');
    await done(2);
    const rs = await this.kube.get<{ items: { spec: { replicas: number }; metadata: { annotations?: Record<string, string> } }[] }>(`/apis/apps/v1/namespaces/${this.ns}/replicasets`);
    const revisions = rs.items.map((r) => `rev ${r.metadata.annotations?.['deployment.kubernetes.io/revision']}: ${r.spec.replicas}`).sort();
    return `${replicas} replicas updated (${revisions.join(', ')})`;
  }
}

function httpGetRetry(url: string, timeoutMs: number): Promise<string> {
  const once = () =>
    new Promise<string>((resolve, reject) => {
      const req = request(url, { timeout: 3000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  return waitFor(`GET ${url}`, timeoutMs, () => once().then((b) => `answered by ${b}`), 500);
}

export function formatResult(r: VerifyResult): string {
  return `${r.ok ? '✓' : '✗'} ${r.name} (${r.seconds.toFixed(1)}s)${r.detail ? ` — ${r.detail}` : ''}`;
}
