// The one pipeline behind `up` (local node containers) and `deploy` (machines over
// SSH): an ordered list of named actions over a NodeProvider. It brings the nodes to
// what cluster.yaml says — new nodes get their certificates and stacks, nodes that left
// are drained and removed, changed nodes are updated one at a time, unchanged ones are
// left alone — then waits for the API, the nodes and CoreDNS. An edited kubernetesVersion
// runs `k8s-img upgrade`'s rollout first (daytwo/upgrade.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectorOf } from '../daytwo/nodes.js';
import { upgrade, versionChange, type UpgradeResult } from '../daytwo/upgrade.js';
import { ClusterError, ConfigError, HostError, K8sImgError, type Problem } from '../errors.js';
import { planCluster } from '../plan/plan.js';
import type { ClusterPlan, NodePlan } from '../plan/types.js';
import { appliedConfig } from '../plan/upgrade.js';
import type { NodeHost, NodeProvider } from '../providers/types.js';
import { adminKubeconfig } from '../runtime/admin-kubeconfig.js';
import { bundleManifest } from '../runtime/bundle-sync.js';
import { readRecord, recordApplied, recordNode, type DeployRecord } from '../runtime/deploy-record.js';
import type { DockerEngine } from '../runtime/docker.js';
import { readExtraImages } from '../runtime/extra-images.js';
import { writeFileAtomic } from '../runtime/files.js';
import { defaultIssuers } from '../runtime/issuers.js';
import { KubeClient, credentialsFromKubeconfig, readyNodes, waitFor } from '../runtime/kube.js';
import { checkOutputDir } from '../runtime/output-dir.js';
import { runActions, type Action } from './actions.js';
import { fetchAndBuild, type Artifacts } from './artifacts.js';
import { adminKubeconfigPath, bundlesDir, type ClusterHandle } from './cluster.js';
import { protectedPaths, renderCluster, writeBundles, type GenerateResult } from './generate.js';
import { composeUp, loadNodeImages, stackSettled, syncNodeBundle, waitServices } from './node-ops.js';
import { preflight, preflightError } from './preflight.js';
import type { Reporter } from './progress.js';
import { leavingNodes, removeNodes } from './remove-nodes.js';
import { saveNodeArchives, type NodeArchive } from './save.js';
import { claimState, verifyState } from './state-check.js';

export interface Timings {
  apiReady: number;
  nodesReady: number;
  dnsReady: number;
  total: number;
}

/** What happened on one node. */
export interface NodeOutcome {
  node: string;
  sent: number;
  bytes: number;
  images: 'loaded' | 'present';
  created: string[];
  started: string[];
  seconds: number;
}

export interface ConvergeContext {
  cluster: ClusterHandle;
  provider: NodeProvider;
  docker: DockerEngine;
  reporter: Reporter;
  started: number;
  previous: DeployRecord | undefined;
  /** How long each node may take to get its services healthy. */
  nodeTimeoutMs: number;
  /** How the user runs this again (`k8s-img up -c cluster.yaml`), for hints. */
  command: string;
  /** An edited kubernetesVersion: the rolling upgrade to run before the rest. */
  upgradeTo?: string;
  upgraded?: UpgradeResult;
  bundles: string;
  artifacts?: Artifacts;
  result?: GenerateResult;
  /** The nodes' image archives, once written. */
  archives?: NodeArchive[];
  outcomes: NodeOutcome[];
  removed: string[];
  timings: Partial<Timings>;
}

export interface ConvergeResult {
  plan: ClusterPlan;
  /** When kubernetesVersion was edited: the rolling upgrade that ran first. */
  upgraded?: UpgradeResult;
  kubeconfig: string;
  artifacts: Artifacts;
  outcomes: NodeOutcome[];
  removed: string[];
  timings: Timings;
}

const plan = (ctx: ConvergeContext) => ctx.result!.plan;
/** Nodes of the file that do not run the stack yet. */
const newNodes = (ctx: ConvergeContext) => plan(ctx).nodes.filter((n) => !ctx.previous?.nodes.some((r) => r.name === n.name));
const since = (ctx: ConvergeContext) => (Date.now() - ctx.started) / 1000;

/**
 * Changes that cannot be made to a running cluster by editing the file: a node's roles
 * (remove it and add it back), and a new etcd member (etcd membership only shrinks here).
 */
export function unsupportedChanges(next: ClusterPlan, previous: DeployRecord | undefined): Problem[] {
  if (!previous || previous.nodes.length === 0) return [];
  const problems: Problem[] = [];
  const was = new Map(previous.nodes.map((n) => [n.name, n]));
  const hadEtcd = previous.nodes.some((n) => n.roles.includes('etcd'));
  next.nodes.forEach((n, i) => {
    const old = was.get(n.name);
    if (old && [...old.roles].sort().join() !== [...n.roles].sort().join()) {
      problems.push({ path: `nodes[${i}].roles`, severity: 'error', message: `${n.name} runs as ${old.roles.join(', ')}: the roles of a deployed node cannot change`, hint: `remove ${n.name} from the file and deploy, then add it back with its new roles and deploy again` });
    } else if (!old && hadEtcd && n.roles.includes('etcd')) {
      problems.push({ path: `nodes[${i}].roles`, severity: 'error', message: `${n.name} would be a new member of the running etcd cluster, which k8s-img cannot add yet`, hint: 'add the node without the etcd role' });
    }
  });
  return problems;
}

/** The node's content as deployed: its bundle's manifest and its image archive. */
function nodeDigest(bundles: string, node: string): string {
  const dir = join(bundles, node);
  return createHash('sha256').update(JSON.stringify(bundleManifest(dir))).update(readFileSync(join(dir, 'images.sha256'))).digest('hex').slice(0, 16);
}

async function applyNode(ctx: ConvergeContext, node: NodePlan, update: (phase: string) => void): Promise<NodeOutcome> {
  const t = Date.now();
  const host = await ctx.provider.connect(node.name);
  const dir = join(ctx.bundles, node.name);
  update('bundle');
  const sync = await syncNodeBundle(host, dir);
  update('images');
  const images = await loadNodeImages(host, dir);
  // A node whose files and images are as they were, with every service up, is left
  // alone: `docker compose up -d` would run its one-shots again for nothing.
  update('compose up');
  const unchanged = sync.sent === 0 && sync.removed === 0 && images === 'present' && (await stackSettled(host, node.services));
  const compose = unchanged ? { created: [], started: [] } : await composeUp(host, node.services);
  update('health');
  if (!unchanged) await waitServices(host, node, ctx.nodeTimeoutMs, (d) => update(d));
  recordNode(ctx.cluster.state, ctx.provider.kind, {
    name: node.name,
    address: node.address,
    roles: node.roles,
    digest: nodeDigest(ctx.bundles, node.name),
    ...(ctx.provider.sshTarget ? { ssh: ctx.provider.sshTarget(node.name) } : {}),
  });
  const outcome = { node: node.name, sent: sync.sent, bytes: sync.bytes, images, ...compose, seconds: (Date.now() - t) / 1000 };
  ctx.reporter.info(`  ✓ ${node.name} (${host.where}): ${describeOutcome(outcome)}`);
  return outcome;
}

const size = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`);

export function describeOutcome(o: NodeOutcome): string {
  const bundle = o.sent === 0 ? 'bundle up to date' : `${o.sent} files sent (${size(o.bytes)})`;
  const changed = o.created.length + o.started.length === 0 ? 'no container (re)created' : `${o.created.length} containers (re)created${o.started.length ? `, ${o.started.length} started` : ''}`;
  return `${bundle}, images ${o.images === 'present' ? 'already there' : 'loaded'}, ${changed}, healthy after ${o.seconds.toFixed(1)} s`;
}

/** One line for up/deploy (and upgrade) after a rolling upgrade. */
export function describeUpgrade(u: UpgradeResult): string {
  return `upgraded from ${u.from} to ${u.to} in ${u.seconds.toFixed(0)} s (${u.steps.length} steps${u.snapshot ? `; etcd snapshot ${u.snapshot} taken first` : ''})`;
}

/** Runs `apply` on every node of a group at once; one failing stops the deploy with the node named. */
async function applyAll(ctx: ConvergeContext, nodes: NodePlan[], update: (d: string) => void): Promise<void> {
  const phase = new Map(nodes.map((n) => [n.name, 'waiting']));
  const show = () => update([...phase].map(([n, p]) => `${n}: ${p}`).join(' · '));
  const settled = await Promise.allSettled(
    nodes.map((n) =>
      applyNode(ctx, n, (p) => {
        phase.set(n.name, p.length > 40 ? `${p.slice(0, 40)}…` : p);
        show();
      }).then(
        (o) => {
          phase.set(n.name, 'done');
          ctx.outcomes.push(o);
        },
        (e: unknown) => {
          phase.set(n.name, 'failed');
          throw e;
        },
      ),
    ),
  );
  const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ node: nodes[i]!.name, error: s.reason as unknown }] : []));
  if (failed.length === 0) return;
  const first = failed[0]!;
  const others = failed.slice(1).map((f) => f.node);
  const message = `node ${first.node} failed: ${(first.error as Error).message}${others.length ? `\n(also failed: ${others.join(', ')})` : ''}`;
  const hint = `fix ${failed.map((f) => f.node).join(', ')} and run again: nodes already done are left as they are${first.error instanceof K8sImgError && first.error.hint ? `; ${first.error.hint}` : ''}`;
  throw first.error instanceof HostError ? new HostError(message, hint, { cause: first.error }) : new ClusterError(message, hint, { cause: first.error });
}

export const CONVERGE: Action<ConvergeContext>[] = [
  {
    title: 'Checking the state folder, the bundle folder and the engine',
    async run(ctx) {
      const { cluster, previous, provider } = ctx;
      if (previous && previous.nodes.length > 0 && previous.provider !== provider.kind) {
        throw new ClusterError(
          `cluster ${cluster.config.name} was started ${previous.provider === 'local' ? 'locally (k8s-img up)' : 'on machines (k8s-img deploy)'}`,
          `use \`k8s-img ${previous.provider === 'local' ? 'up' : 'deploy'}\` for it, or \`k8s-img down\` first`,
        );
      }
      const next = planCluster(cluster.config);
      const problems = unsupportedChanges(next, previous);
      if (problems.length > 0) throw new ConfigError(problems, cluster.configPath);
      // An edited kubernetesVersion is `k8s-img upgrade`, with its refusals.
      const version = versionChange(cluster, cluster.config.kubernetesVersion, ctx.command);
      if (version.kind === 'refused') throw new ConfigError([version.problem], cluster.configPath);
      if (version.kind === 'upgrade') ctx.upgradeTo = version.to;
      ctx.bundles = checkOutputDir(bundlesDir(cluster.state), protectedPaths(cluster.configPath, cluster.state), { ours: true }).dir;
      await verifyState(cluster.state, next, cluster.configPath);
      await ctx.docker.ping();
    },
  },
  {
    title: 'Upgrading Kubernetes',
    reportsItself: true,
    when: (ctx) => ctx.upgradeTo !== undefined,
    // The rolling upgrade of `k8s-img upgrade` (snapshot, etcd, control planes, workers
    // drained); what follows then finds every node up to date.
    async run(ctx) {
      const connect = connectorOf(ctx.provider, ctx.provider.kind === 'local' ? 'up' : 'deploy');
      ctx.upgraded = await upgrade(ctx.cluster, { to: ctx.upgradeTo!, batch: 1, drainTimeoutMs: 300_000, rerun: ctx.command }, ctx.docker, () => connect, ctx.reporter);
    },
  },
  {
    title: 'Images',
    reportsItself: true,
    async run(ctx) {
      ctx.artifacts = await fetchAndBuild(ctx.cluster.config, ctx.reporter, ctx.docker);
      await ctx.provider.prepare?.({ config: ctx.cluster.config, docker: ctx.docker, reporter: ctx.reporter, workDir: ctx.artifacts.workDir });
    },
  },
  {
    title: 'Writing the node bundles (certificates for new nodes)',
    async run(ctx) {
      // The state folder was verified by the first action.
      claimState(ctx.cluster.state, ctx.cluster.configPath);
      ctx.result = await renderCluster(ctx.cluster.config, ctx.cluster.state, defaultIssuers());
      for (const w of plan(ctx).warnings) ctx.reporter.warn(`${w.message} (${w.hint})`);
      writeBundles(ctx.bundles, ctx.result);
    },
  },
  {
    title: 'Image archives',
    reportsItself: true,
    async run(ctx) {
      ctx.archives = await saveNodeArchives(plan(ctx), ctx.docker, ctx.bundles, ctx.reporter, readExtraImages(ctx.cluster.state));
    },
  },
  {
    title: 'Preflight',
    reportsItself: true,
    // Machines that run the stack already passed it (`k8s-img preflight` checks them again).
    when: (ctx) => ctx.provider.kind === 'ssh' && newNodes(ctx).length > 0,
    async run(ctx) {
      const reports = await preflight(ctx.provider, plan(ctx), newNodes(ctx), (node, host) => nodeNeeds(ctx, node, host), ctx.reporter);
      const err = preflightError(reports);
      if (err) throw err;
      for (const r of reports) for (const c of r.checks.filter((x) => x.level === 'warn')) ctx.reporter.warn(`${r.node}: ${c.name}: ${c.detail} (${c.fix})`);
    },
  },
  {
    title: (ctx) => (ctx.provider.kind === 'local' ? `Starting ${plan(ctx).nodes.length} node containers` : `Connecting to ${plan(ctx).nodes.length} nodes`),
    async run(ctx, update) {
      await ctx.provider.provision(plan(ctx).nodes, ctx.archives, update);
    },
  },
  {
    title: 'Removing nodes that left the file',
    reportsItself: true,
    when: (ctx) => leavingNodes(ctx.previous, ctx.cluster.config).length > 0,
    async run(ctx) {
      ctx.removed = await removeNodes(ctx.cluster, plan(ctx), ctx.provider, leavingNodes(ctx.previous, ctx.cluster.config), ctx.reporter);
    },
  },
  {
    title: (ctx) => `Nodes: bundle, images, docker compose up -d, health (${plan(ctx).nodes.length} nodes)`,
    async run(ctx, update) {
      const deployed = new Map((readRecord(ctx.cluster.state)?.nodes ?? []).map((n) => [n.name, n]));
      // Nodes that run the cluster already and whose files changed are updated one at a
      // time, so the control planes and etcd members keep a majority; the rest at once.
      const rolling = plan(ctx).nodes.filter((n) => deployed.has(n.name) && deployed.get(n.name)!.digest !== nodeDigest(ctx.bundles, n.name));
      await applyAll(ctx, plan(ctx).nodes.filter((n) => !rolling.includes(n)), update);
      for (const n of rolling) await applyAll(ctx, [n], update);
      // A node updated later may have shaken one updated earlier (an etcd member restarting
      // costs the others their quorum for a moment): every node settles again.
      if (rolling.length > 0) {
        update('every node healthy again');
        await Promise.all(plan(ctx).nodes.map(async (n) => waitServices(await ctx.provider.connect(n.name), n, ctx.nodeTimeoutMs)));
      }
      recordApplied(ctx.cluster.state, { kubernetesVersion: ctx.cluster.config.kubernetesVersion, config: appliedConfig(ctx.cluster.config) });
    },
  },
  {
    title: 'Waiting for the API server (/readyz)',
    async run(ctx) {
      const path = adminKubeconfigPath(ctx.cluster.state);
      writeFileAtomic(path, adminKubeconfig(plan(ctx), ctx.result!.secrets), 0o600);
      await withKube(ctx, (kube) => waitFor('kube-apiserver /readyz', 300_000, async () => ((await kube.raw('GET', '/readyz')).status === 200 ? true : undefined)));
      ctx.timings.apiReady = since(ctx);
    },
  },
  {
    title: (ctx) => `Waiting for ${plan(ctx).nodes.length} nodes to be Ready`,
    async run(ctx, update) {
      await withKube(ctx, (kube) =>
        waitFor('all nodes Ready', 300_000, async () => {
          const ready = await readyNodes(kube);
          update(`${ready.length}/${plan(ctx).nodes.length} Ready`);
          return plan(ctx).nodes.every((n) => ready.includes(n.name)) ? true : undefined;
        }),
      );
      ctx.timings.nodesReady = since(ctx);
    },
  },
  {
    title: 'Waiting for CoreDNS',
    async run(ctx, update) {
      await withKube(ctx, async (kube) => {
        await waitFor('CoreDNS ready', 300_000, async () => {
          const d = await kube.getOrUndefined<{ spec: { replicas: number }; status: { readyReplicas?: number } }>('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
          update(d ? `${d.status.readyReplicas ?? 0}/${d.spec.replicas} ready` : 'not created yet');
          return d && (d.status.readyReplicas ?? 0) >= d.spec.replicas ? true : undefined;
        });
        ctx.timings.dnsReady = since(ctx);
        await labelRoles(kube, plan(ctx));
      });
    },
  },
];

async function withKube<T>(ctx: ConvergeContext, fn: (kube: KubeClient) => Promise<T>): Promise<T> {
  const kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(ctx.cluster.state)));
  try {
    return await fn(kube);
  } finally {
    kube.close();
  }
}

/** What a node needs on disk: its images unpacked (none if it holds them already) and its bundle. */
async function nodeNeeds(ctx: ConvergeContext, node: NodePlan, host: NodeHost): Promise<{ images: number; bundle: number }> {
  const p = plan(ctx);
  const refs = node.images.map((id) => p.images[id]);
  const local = await Promise.all(refs.map((r) => ctx.docker.imageInfo(r)));
  const have = await host.exec(['docker', 'image', 'inspect', '--format', '{{.Id}}', ...refs]);
  const ids = have.stdout.trim().split('\n');
  const images = have.code === 0 && local.every((l, i) => l?.id === ids[i]) ? 0 : local.reduce((sum, l) => sum + (l?.size ?? 0), 0);
  const manifest = bundleManifest(join(ctx.bundles, node.name));
  return { images, bundle: Object.values(manifest).reduce((s, f) => s + f.size, 0) };
}

/** node-role.kubernetes.io labels (a kubelet may not set them itself): `kubectl get nodes` shows ROLES. */
async function labelRoles(kube: KubeClient, p: ClusterPlan): Promise<void> {
  for (const n of p.nodes) {
    const labels = Object.fromEntries(n.roles.map((r) => [`node-role.kubernetes.io/${r}`, '']));
    await kube.patch(`/api/v1/nodes/${n.name}`, { metadata: { labels } }, 'merge');
  }
}

/** Runs the whole pipeline; the node provider decides what kind of nodes these are. */
export async function converge(cluster: ClusterHandle, provider: NodeProvider, docker: DockerEngine, reporter: Reporter, command: string, nodeTimeoutMs = 300_000): Promise<ConvergeResult> {
  const ctx: ConvergeContext = {
    cluster,
    provider,
    docker,
    reporter,
    started: Date.now(),
    previous: readRecord(cluster.state),
    nodeTimeoutMs,
    command,
    bundles: bundlesDir(cluster.state),
    outcomes: [],
    removed: [],
    timings: {},
  };
  await runActions(ctx, CONVERGE);
  const t = ctx.timings;
  return {
    plan: plan(ctx),
    ...(ctx.upgraded ? { upgraded: ctx.upgraded } : {}),
    kubeconfig: adminKubeconfigPath(cluster.state),
    artifacts: ctx.artifacts!,
    outcomes: ctx.outcomes.sort((a, b) => (a.node < b.node ? -1 : 1)),
    removed: ctx.removed,
    timings: { apiReady: t.apiReady!, nodesReady: t.nodesReady!, dnsReady: t.dnsReady!, total: since(ctx) },
  };
}
