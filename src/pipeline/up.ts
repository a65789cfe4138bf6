// up: the ordered steps that bring a local cluster from nothing to Ready —
// config → images → bundles → archives → nodes → compose → wait → kubeconfig.
import { chmodSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from '../errors.js';
import type { ClusterPlan } from '../plan/types.js';
import { adminKubeconfig } from '../runtime/admin-kubeconfig.js';
import { DockerEngine } from '../runtime/docker.js';
import { readExtraImages } from '../runtime/extra-images.js';
import { writeFileAtomic } from '../runtime/files.js';
import { defaultIssuers } from '../runtime/issuers.js';
import { checkOutputDir } from '../runtime/output-dir.js';
import { KubeClient, credentialsFromKubeconfig, waitFor } from '../runtime/kube.js';
import { fetchAndBuild } from './artifacts.js';
import { buildNodeImage } from './build.js';
import { protectedPaths, renderVerified, writeBundles } from './generate.js';
import { verifyState } from './state-check.js';
import { planCluster } from '../plan/plan.js';
import {
  adminKubeconfigPath,
  bundlesDir,
  composeUp,
  loadNodeImages,
  localSubnet,
  names,
  openLocalCluster,
  provisionNodes,
  waitNodeEngine,
  type LocalCluster,
} from './local.js';
import type { Reporter } from './progress.js';
import { saveNodeArchives } from './save.js';

export interface UpResult {
  cluster: LocalCluster;
  plan: ClusterPlan;
  kubeconfig: string;
  kubectl: string;
  /** Seconds from the start of `up` to each milestone (the benchmark's numbers when images are built). */
  timings: { apiReady: number; nodesReady: number; dnsReady: number; total: number };
}

export async function up(configPath: string | undefined, reporter: Reporter, docker = new DockerEngine()): Promise<UpResult> {
  const started = Date.now();
  const cluster = openLocalCluster(configPath, true);
  const { config, state } = cluster;
  localSubnet(config); // fail early when the nodes do not share one /24
  // Before the long build: the bundle folder and the state folder must be usable.
  const bundles = checkOutputDir(bundlesDir(state), protectedPaths(cluster.configPath, state), { ours: true }).dir;
  await verifyState(state, planCluster(config), cluster.configPath);
  await docker.ping();

  const { bins, workDir } = await fetchAndBuild(config, reporter, docker);
  const node = await buildNodeImage({ config, docker, reporter, workDir });

  const result = await renderVerified(config, state, cluster.configPath, defaultIssuers());
  const { plan } = result;
  for (const w of plan.warnings) reporter.warn(`${w.message} (${w.hint})`);
  writeBundles(bundles, result);
  await saveNodeArchives(plan, docker, bundles, reporter, readExtraImages(state));

  await reporter.step(`Starting ${plan.nodes.length} node containers on ${localSubnet(config)}`, () => provisionNodes(docker, plan, config, node.ref));
  // Loads run on all nodes at once: each node has its own engine.
  await reporter.step(`docker load on ${plan.nodes.length} nodes`, async (update) => {
    let done = 0;
    await Promise.all(
      plan.nodes.map(async (n) => {
        const container = names.node(plan.cluster, n.name);
        await waitNodeEngine(docker, container);
        await loadNodeImages(docker, container, join(bundles, n.name));
        update(`${++done}/${plan.nodes.length} nodes loaded`);
      }),
    );
  });
  // All nodes at once, as operators starting their machines would: a node's compose waits
  // only for its own services, which may need peers elsewhere (etcd quorum, the API).
  await reporter.step(`docker compose up -d on ${plan.nodes.length} nodes`, async (update) => {
    let done = 0;
    await Promise.all(
      plan.nodes.map(async (n) => {
        await composeUp(docker, names.node(plan.cluster, n.name), join(bundles, n.name));
        update(`${++done}/${plan.nodes.length} nodes started (${n.name})`);
      }),
    );
  });

  const kubeconfig = adminKubeconfigPath(state);
  writeFileAtomic(kubeconfig, adminKubeconfig(plan, result.secrets), 0o600);
  const kube = new KubeClient(credentialsFromKubeconfig(kubeconfig));
  const since = () => (Date.now() - started) / 1000;
  try {
    await reporter.step('Waiting for the API server (/readyz)', () =>
      waitFor('kube-apiserver /readyz', 300_000, async () => ((await kube.raw('GET', '/readyz')).status === 200 ? true : undefined)),
    );
    const apiReady = since();
    await reporter.step(`Waiting for ${plan.nodes.length} nodes to be Ready`, (update) =>
      waitFor('all nodes Ready', 300_000, async () => {
        const ready = await readyNodes(kube);
        update(`${ready.length}/${plan.nodes.length} Ready`);
        return plan.nodes.every((n) => ready.includes(n.name)) ? true : undefined;
      }),
    );
    const nodesReady = since();
    await reporter.step('Waiting for CoreDNS', (update) =>
      waitFor('CoreDNS ready', 300_000, async () => {
        const d = await kube.getOrUndefined<{ spec: { replicas: number }; status: { readyReplicas?: number } }>('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
        update(d ? `${d.status.readyReplicas ?? 0}/${d.spec.replicas} ready` : 'not created yet');
        return d && (d.status.readyReplicas ?? 0) >= d.spec.replicas ? true : undefined;
      }),
    );
    const dnsReady = since();
    await labelRoles(kube, plan);
    const kubectl = installKubectl(bins.kubectl.path);
    return { cluster, plan, kubeconfig, kubectl, timings: { apiReady, nodesReady, dnsReady, total: (Date.now() - started) / 1000 } };
  } catch (e) {
    if (e instanceof ClusterError) throw new ClusterError(`${e.message}`, `inspect with \`k8s-img status${configPath ? ` -c ${configPath}` : ''}\`; remove with \`k8s-img down\``);
    throw e;
  } finally {
    kube.close();
  }
}

export async function readyNodes(kube: KubeClient): Promise<string[]> {
  const list = await kube.get<{ items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[] }>('/api/v1/nodes');
  return list.items.filter((n) => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name);
}

/** node-role.kubernetes.io labels (a kubelet may not set them itself): `kubectl get nodes` shows ROLES. */
async function labelRoles(kube: KubeClient, plan: ClusterPlan): Promise<void> {
  for (const n of plan.nodes) {
    const labels = Object.fromEntries(n.roles.map((r) => [`node-role.kubernetes.io/${r}`, '']));
    await kube.patch(`/api/v1/nodes/${n.name}`, { metadata: { labels } }, 'merge');
  }
}

/** Puts the built kubectl on PATH when there is none, so `kubectl get nodes` just works. */
function installKubectl(built: string): string {
  const target = '/usr/local/bin/kubectl';
  const onPath = (process.env.PATH ?? '').split(':').map((d) => join(d, 'kubectl')).find((p) => existsSync(p));
  if (onPath) return onPath;
  try {
    copyFileSync(built, target);
    chmodSync(target, 0o755);
    return target;
  } catch {
    return built;
  }
}
