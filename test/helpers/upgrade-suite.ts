// Issue 10: a rolling upgrade of the tutorial's 3 nodes from the previous minor (1.36.3)
// to the default (1.37.2), with a Deployment (2 replicas, one per worker) behind a
// NodePort Service that a client polls throughout (retrying once), and the API polled
// the same way. Needs the 1.36.3 images (a cold build of ~15-40 min): test:long. Run
// two ways (test/long/upgrade*.test.ts): `k8s-img upgrade --to`, and kubernetesVersion
// edited in cluster.yaml + `k8s-img up` (with its refusals first).
import { removeLocalCluster } from '../../src/providers/local.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { parseClusterConfig } from '../../src/config/load.js';
import { fetchAndBuild } from '../../src/pipeline/artifacts.js';
import { adminKubeconfigPath, openLocalCluster } from '../../src/pipeline/local.js';
import { ConsoleReporter } from '../../src/pipeline/progress.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig, waitFor } from '../../src/runtime/kube.js';
import type { StateDir } from '../../src/runtime/state.js';
import { runInProcess } from './cli.js';
import { IT_IMAGES, tutorialNodes, writeTestCluster } from '../integration/harness.js';

export const FROM = '1.36.3';
export const TO = '1.37.2';

/** The upgrade step running now: the one after the last recorded in <state>/upgrade.json. */
export function runningStep(state: StateDir): string {
  const text = state.read('upgrade.json');
  const done = text ? (JSON.parse(text) as { done: string[] }).done : [];
  return `after ${done.at(-1) ?? 'the start'}`;
}

export interface Polled {
  requests: number;
  failedFirst: number;
  failed: number;
  longestGapMs: number;
  failures: string[];
}

/**
 * Polls `once` every `everyMs`, retrying a failure once; counts failures and the longest
 * time without an answer, and notes when (seconds in, which step: `where`) each failure was.
 */
export function poller(once: () => Promise<boolean>, everyMs: number, where: () => string) {
  const started = Date.now();
  const r: Polled = { requests: 0, failedFirst: 0, failed: 0, longestGapMs: 0, failures: [] };
  let lastOk = Date.now();
  let stop = false;
  const done = (async () => {
    while (!stop) {
      r.requests++;
      let ok = await once().catch(() => false);
      if (!ok) {
        r.failedFirst++;
        ok = await once().catch(() => false);
        if (!ok) r.failed++;
        r.failures.push(`${((Date.now() - started) / 1000).toFixed(1)} s ${ok ? 'once' : 'twice'} (${where()})`);
      }
      if (ok) {
        r.longestGapMs = Math.max(r.longestGapMs, Date.now() - lastOk);
        lastOk = Date.now();
      }
      await new Promise((res) => setTimeout(res, everyMs));
    }
    r.longestGapMs = Math.max(r.longestGapMs, Date.now() - lastOk);
  })();
  return { result: r, stop: async () => ((stop = true), await done, r) };
}

export const httpOk = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const req = httpRequest({ host, port, path: '/', timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });

/** The Service and API pollers' counts, each failure's time and step, and the upgrade's step lines. */
export function pollReport(label: string, seconds: number, s: Polled, a: Polled, upgradeStderr: string): string {
  return (
    `${label}: ${FROM} → ${TO} in ${seconds.toFixed(0)} s; Service: ${s.requests} requests, ${s.failedFirst} failed once, ${s.failed} failed after a retry, longest gap ${(s.longestGapMs / 1000).toFixed(1)} s; ` +
    `API /readyz: ${a.requests} requests, ${a.failedFirst} failed once, ${a.failed} failed after a retry, longest gap ${(a.longestGapMs / 1000).toFixed(1)} s\n` +
    `${label}: Service failures: ${s.failures.join('; ') || 'none'}\n${label}: API failures: ${a.failures.join('; ') || 'none'}\n${label}: the upgrade's steps:\n${upgradeStderr.split('\n').filter((l) => /upgrade .*→/.test(l)).join('\n')}\n`
  );
}

/**
 * A Deployment of the workload at FROM (2 replicas, one per worker, a PodDisruptionBudget,
 * a readiness probe, a preStop sleep) behind a NodePort Service, waited for on sw1 and sw2
 * and through `address`; returns the node port.
 */
export async function webBehindService(kube: KubeClient, address: string): Promise<number> {
  const sec = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
  await kube.create('/apis/apps/v1/namespaces/default/deployments', {
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { rollingUpdate: { maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 10,
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } } }] } },
          containers: [
            {
              name: 'w',
              image: `${IT_IMAGES}/workload:v${FROM}`,
              args: ['serve'],
              securityContext: sec,
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
              // Endpoints and kube-proxy drop the pod before it stops serving.
              lifecycle: { preStop: { sleep: { seconds: 3 } } },
            },
          ],
        },
      },
    },
  });
  await kube.create('/apis/policy/v1/namespaces/default/poddisruptionbudgets', { metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } });
  const svc = await kube.create<{ spec: { ports: { nodePort: number }[] } }>('/api/v1/namespaces/default/services', {
    metadata: { name: 'web' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  const nodePort = svc.spec.ports[0]!.nodePort;
  const nodes = await waitFor('2 web pods ready on sw1 and sw2', 240_000, async () => {
    const pods = await kube.get<{ items: { spec: { nodeName?: string }; status: { conditions?: { type: string; status: string }[] } }[] }>('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb');
    const ready = pods.items.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => p.spec.nodeName);
    return ready.length === 2 ? ready.sort() : undefined;
  });
  assert.deepEqual(nodes, ['sw1', 'sw2']);
  await waitFor(`the Service on ${address}:${nodePort}`, 60_000, async () => ((await httpOk(address, nodePort)) ? true : undefined));
  return nodePort;
}

/** After an upgrade: every kubelet and the API server report TO. */
export async function assertRunsTo(kube: KubeClient): Promise<void> {
  const nodes = await kube.get<{ items: { metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string } } }[] }>('/api/v1/nodes');
  assert.deepEqual(nodes.items.map((n) => n.status.nodeInfo.kubeletVersion), [`v${TO}`, `v${TO}`, `v${TO}`]);
  assert.equal((await kube.get<{ gitVersion: string }>('/version')).gitVersion, `v${TO}`);
}

/** `via`: `k8s-img upgrade --to`, or cluster.yaml's kubernetesVersion edited and `k8s-img up`. */
export function upgradeSuite(NAME: string, NET: string, via: 'upgrade' | 'up'): void {
  const configPath = writeTestCluster(NAME, tutorialNodes(NET), `kubernetesVersion: "${FROM}"\nsecurity: { mode: secure }\n`);
  const docker = new DockerEngine();
  const cli = (...args: string[]) => runInProcess([...args, '-c', configPath]);
  const withVersion = (v: string, extra = '') => readFileSync(configPath, 'utf8').replace(/kubernetesVersion: .*/, `kubernetesVersion: "${v}"${extra}`);
  let kube: KubeClient;

  before(async () => {
    for (const v of [FROM, TO]) {
      await fetchAndBuild(parseClusterConfig(withVersion(v)).config, new ConsoleReporter(process.stderr));
    }
    await removeLocalCluster(docker, NAME);
  });

  after(async () => {
    kube?.close();
    await removeLocalCluster(docker, NAME);
  });

  const step = () => runningStep(openLocalCluster(configPath).state);

  describe(`upgrade ${FROM} → ${TO}`, () => {
    it(`k8s-img up at ${FROM}`, async () => {
      const r = await cli('up');
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(openLocalCluster(configPath).state)));
      const v = await kube.get<{ gitVersion: string }>('/version');
      assert.equal(v.gitVersion, `v${FROM}`);
    });

    if (via === 'upgrade') {
      it('a downgrade is refused (skips: unit tests)', async () => {
        const down = await cli('upgrade', '--to', '1.35.4');
        assert.equal(down.code, 64);
        assert.match(down.stderr, /downgrade from 1\.36\.3 to 1\.35\.4 refused/);
      });
    } else {
      it('up refuses kubernetesVersion edited to a downgrade, and the upgrade together with another edit; nothing changes', async () => {
        const text = readFileSync(configPath, 'utf8');
        const apiserver = () => docker.exec(`k8s-img-${NAME}-sm1`, ['docker', 'inspect', '-f', '{{.State.StartedAt}}', 'k8s-img-kube-apiserver']);
        const before = (await apiserver()).stdout;
        try {
          writeFileSync(configPath, withVersion('1.35.4'));
          const down = await cli('up');
          assert.equal(down.code, 2, down.stderr);
          assert.match(down.stderr, /kubernetesVersion: the cluster runs 1\.36\.3: downgrade from 1\.36\.3 to 1\.35\.4 refused/);
          writeFileSync(configPath, withVersion(TO, '\nnetworking: { nodePortRange: 30000-32000 }'));
          const mixed = await cli('up');
          assert.equal(mixed.code, 2, mixed.stderr);
          assert.match(mixed.stderr, /kubernetesVersion: changes from 1\.36\.3 to 1\.37\.2 together with other edits \(networking\.nodePortRange\)/);
        } finally {
          writeFileSync(configPath, text);
        }
        assert.equal((await apiserver()).stdout, before);
        assert.equal(openLocalCluster(configPath).state.read('upgrade.json'), undefined, 'no upgrade started');
      });
    }

    let nodePort = 0;
    it('a Deployment (2 replicas, one per worker) behind a NodePort Service', async () => {
      nodePort = await webBehindService(kube, `${NET}.206`);
    });

    it(`${via === 'upgrade' ? `k8s-img upgrade --to ${TO}` : `kubernetesVersion: "${TO}" and k8s-img up`}: the Service answers throughout; every component runs ${TO} after`, async () => {
      const service = poller(() => httpOk(`${NET}.206`, nodePort), 100, step);
      const api = poller(async () => (await kube.raw('GET', '/readyz', undefined, { timeoutMs: 2000 })).status === 200, 200, step);
      const started = Date.now();
      if (via === 'up') writeFileSync(configPath, withVersion(TO));
      const r = via === 'upgrade' ? await cli('upgrade', '--to', TO) : await cli('up');
      const seconds = (Date.now() - started) / 1000;
      const s = await service.stop();
      const a = await api.stop();
      process.stderr.write(pollReport('upgrade.test', seconds, s, a, r.stderr));
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      if (via === 'up') assert.match(r.stdout, /Kubernetes upgraded from 1\.36\.3 to 1\.37\.2 in \d+ s \(6 steps; etcd snapshot pre-upgrade-1-36-3-\d+ taken first\)/);
      assert.equal(s.failed, 0, 'the Service failed requests even after a retry');
      await assertRunsTo(kube);
      assert.match(readFileSync(configPath, 'utf8'), /kubernetesVersion: "1\.37\.2"/);
      const list = await cli('etcd', 'snapshot', 'list');
      assert.match(list.stdout, /^pre-upgrade-1-36-3-\d+\s+\S+\s+1\.36\.3/m);
    });

    it('status (running versions included) and verify pass', async () => {
      const status = await cli('status', '--json');
      const checks = JSON.parse(status.stdout) as { ok: boolean; scope: string; name: string; detail: string }[];
      assert.deepEqual(checks.filter((c) => !c.ok), []);
      assert.equal(checks.filter((c) => c.name === 'running versions').length, 3);
      const verify = await cli('verify');
      assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
    });

    if (via === 'up') {
      it('up again: every node as it is, nothing recreated', async () => {
        const r = await cli('up');
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        for (const n of ['sm1', 'sw1', 'sw2']) assert.match(r.stderr, new RegExp(`✓ ${n} \\(container [^)]+\\): bundle up to date, images already there, no container \\(re\\)created`));
        assert.doesNotMatch(r.stdout, /upgraded/);
      });
    }
  });
}
