// k8s-img upgrade: the new version's images built and its bundles written, an etcd
// snapshot, then the pure plan's order (plan/upgrade.ts), one named step at a time.
// Each finished step is recorded in the state folder: a rerun after a failure resumes
// at the step that failed, and the error names its node. `k8s-img upgrade --to` and
// `up`/`deploy` with an edited kubernetesVersion both run it.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError, ConfigError, UsageError } from '../errors.js';
import { fetchAndBuild } from '../pipeline/artifacts.js';
import { renderVerified, writeBundles } from '../pipeline/generate.js';
import { adminKubeconfigPath, bundlesDir, type ClusterHandle } from '../pipeline/cluster.js';
import { drainNode } from '../pipeline/drain.js';
import { loadNodeImages, syncNodeBundle } from '../pipeline/node-ops.js';
import type { Reporter } from '../pipeline/progress.js';
import { saveNodeArchives } from '../pipeline/save.js';
import { planCluster } from '../plan/plan.js';
import type { ClusterPlan } from '../plan/types.js';
import { appliedConfig, checkUpgrade, configChanges, upgradeOrder, versionDecision, type UpgradeStep, type VersionDecision } from '../plan/upgrade.js';
import { readRecord, recordApplied, type DeployRecord } from '../runtime/deploy-record.js';
import type { DockerEngine } from '../runtime/docker.js';
import { readExtraImages } from '../runtime/extra-images.js';
import { writeFileAtomic } from '../runtime/files.js';
import { withFsErrors } from '../runtime/fs-errors.js';
import { defaultIssuers } from '../runtime/issuers.js';
import { KubeClient, credentialsFromKubeconfig, readyNodes, waitFor } from '../runtime/kube.js';
import { composeOn, waitHealthy } from './compose-ops.js';
import type { NodeConnector } from './nodes.js';
import { saveSnapshot } from './snapshot-save.js';

const PROGRESS = 'upgrade.json';

async function cordon(kube: KubeClient, node: string, on: boolean): Promise<void> {
  await kube.patch(`/api/v1/nodes/${node}`, { spec: { unschedulable: on ? true : null } }, 'merge');
}

interface Progress {
  from: string;
  to: string;
  done: string[];
  snapshot?: string;
}

export interface UpgradeOptions {
  to: string;
  /** Workers upgraded at once. */
  batch: number;
  drainTimeoutMs: number;
  /** The command that resumes it after a failure (the upgrade command, or up/deploy). */
  rerun?: string;
}

function unfinished(cluster: ClusterHandle): Progress | undefined {
  const saved = cluster.state.read(PROGRESS);
  return saved === undefined ? undefined : (JSON.parse(saved) as Progress);
}

/**
 * The version the nodes run: as recorded by the last up, deploy or upgrade; for a record
 * from before versions were recorded, the kubelet image of a node's last bundle.
 */
export function runningVersion(cluster: ClusterHandle, record: DeployRecord | undefined): string | undefined {
  const first = record?.nodes[0];
  if (!first) return undefined;
  if (record.applied) return record.applied.kubernetesVersion;
  const compose = join(bundlesDir(cluster.state), first.name, 'compose.yaml');
  if (!existsSync(compose)) return undefined;
  return /^\s+image: \S+\/kubelet:v(\d+\.\d+\.\d+)$/m.exec(readFileSync(compose, 'utf8'))?.[1];
}

/** Whether applying cluster.yaml (at `wanted`) to the running cluster is an upgrade, and whether it is allowed. */
export function versionChange(cluster: ClusterHandle, wanted: string, command: string): VersionDecision {
  const record = readRecord(cluster.state);
  const p = unfinished(cluster);
  // What else changed: against the recorded configuration, else (older records) the nodes.
  const nodes = (list: { name: string; address: string; roles: string[] }[]) =>
    [...list].sort((a, b) => (a.name < b.name ? -1 : 1)).map((n) => ({ name: n.name, address: n.address, roles: [...n.roles].sort() }));
  const otherChanges = record?.applied ? configChanges(record.applied.config, appliedConfig(cluster.config)) : configChanges(nodes(record?.nodes ?? []), nodes(cluster.config.nodes), 'nodes');
  return versionDecision({ running: runningVersion(cluster, record), wanted, ...(p ? { unfinished: { from: p.from, to: p.to } } : {}), otherChanges: record?.nodes.length ? otherChanges : [], command });
}

/** `upgrade --to`: the refusals before any effect (skips, downgrades as usage errors; other edits of cluster.yaml as a configuration error). */
export function upgradeStart(cluster: ClusterHandle, to: string): Progress {
  const p = unfinished(cluster);
  if (p && p.to !== to) throw new UsageError(`an upgrade from ${p.from} to ${p.to} is unfinished`, `finish it first: k8s-img upgrade -c ${cluster.configPath} --to ${p.to}`);
  const from = p?.from ?? runningVersion(cluster, readRecord(cluster.state)) ?? cluster.config.kubernetesVersion;
  if (!p) checkUpgrade(from, to);
  const d = versionChange(cluster, to, `k8s-img upgrade -c ${cluster.configPath} --to ${to}`);
  if (d.kind === 'refused') throw new ConfigError([d.problem], cluster.configPath);
  return p ?? { from, to, done: [] };
}

/** cluster.yaml names the new version once every node runs it. */
export function withVersion(text: string, to: string): string {
  if (/^kubernetesVersion:.*$/m.test(text)) return text.replace(/^kubernetesVersion:.*$/m, `kubernetesVersion: "${to}"`);
  return text.replace(/^(name:.*)$/m, `$1\nkubernetesVersion: "${to}"`);
}

export interface UpgradeResult {
  from: string;
  to: string;
  steps: string[];
  seconds: number;
  snapshot?: string;
}

/** `cluster` as it was started: machines over SSH as cluster.yaml says, local mode with its resolvers. */
export async function upgrade(cluster: ClusterHandle, opts: UpgradeOptions, docker: DockerEngine, connectFor: (plan: ClusterPlan) => NodeConnector, reporter: Reporter): Promise<UpgradeResult> {
  const started = Date.now();
  const configPath = cluster.configPath;
  const progress = upgradeStart(cluster, opts.to);
  const oldPlan = planCluster({ ...cluster.config, kubernetesVersion: progress.from });
  const config = { ...cluster.config, kubernetesVersion: opts.to };
  const save = () => cluster.state.write(PROGRESS, `${JSON.stringify(progress, null, 2)}\n`);
  save();

  await fetchAndBuild(config, reporter, docker);
  const result = await renderVerified(config, cluster.state, cluster.configPath, defaultIssuers());
  const plan = result.plan;
  const bundles = bundlesDir(cluster.state);
  writeBundles(bundles, result);
  await saveNodeArchives(plan, docker, bundles, reporter, readExtraImages(cluster.state));

  const connect = connectFor(plan);
  const kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(cluster.state)));
  /** The node's new bundle and images, in place; running services untouched until compose recreates them. */
  const stage = async (node: string) => {
    const n = await connect(node);
    const dir = join(bundles, node);
    await loadNodeImages(n, dir);
    await syncNodeBundle(n, dir);
    return n;
  };
  const run = async (step: UpgradeStep, update: (d: string) => void): Promise<void> => {
    switch (step.kind) {
      case 'snapshot': {
        const r = await saveSnapshot(cluster, oldPlan, connectFor(oldPlan), reporter, `pre-upgrade-${progress.from}-${Date.now()}`.replace(/\./g, '-'));
        progress.snapshot = r.manifest.name;
        return;
      }
      case 'etcd':
      case 'control-plane': {
        const n = await stage(step.node);
        await composeOn(n, ['up', '-d', '--no-deps', ...step.services], `docker compose up -d ${step.services.join(' ')}`);
        // etcd: the member is healthy only with quorum; kube-apiserver's health check is /readyz.
        for (const s of step.services) await waitHealthy([n], s, 300_000, update);
        return;
      }
      case 'nodes': {
        for (const node of step.nodes) await cordon(kube, node, true);
        // Evictions only (PodDisruptionBudgets hold): a node that stays is never force-emptied.
        if (step.drain) for (const node of step.nodes) await drainNode(kube, node, update, opts.drainTimeoutMs, Number.POSITIVE_INFINITY);
        for (const node of step.nodes) {
          const n = await stage(node);
          await composeOn(n, ['up', '-d', '--no-deps', ...step.services[node]!], 'docker compose up -d');
          await waitHealthy([n], 'kubelet', 300_000, update);
        }
        const want = `v${opts.to}`;
        await waitFor(`${step.nodes.join(', ')} Ready with kubelet ${want}`, 300_000, async () => {
          const ready = await readyNodes(kube);
          const list = await kube.get<{ items: { metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string } } }[] }>('/api/v1/nodes');
          const ok = step.nodes.every((nm) => ready.includes(nm) && list.items.find((i) => i.metadata.name === nm)?.status.nodeInfo.kubeletVersion === want);
          update(ok ? 'Ready' : 'waiting for Ready and the new kubelet version');
          return ok ? true : undefined;
        });
        for (const node of step.nodes) await cordon(kube, node, false);
        return;
      }
    }
  };

  const ran: string[] = [];
  try {
    for (const step of upgradeOrder(plan, opts.batch)) {
      if (progress.done.includes(step.id)) continue;
      try {
        await reporter.step(`upgrade ${progress.from} → ${opts.to}: ${step.id}`, (update) => run(step, update));
      } catch (e) {
        const where = step.kind === 'nodes' ? step.nodes.join(', ') : step.kind === 'snapshot' ? 'the etcd snapshot' : step.node;
        throw new ClusterError(
          `the upgrade stopped at ${step.id} (${where}): ${(e as Error).message}`,
          `the nodes before it run ${opts.to}, the others ${progress.from}, within upstream's skew; fix the cause and rerun \`${opts.rerun ?? `k8s-img upgrade -c ${configPath} --to ${opts.to}`}\`: it resumes at ${step.id}`,
          { cause: e },
        );
      }
      progress.done.push(step.id);
      ran.push(step.id);
      save();
    }
  } finally {
    kube.close();
  }
  const text = readFileSync(cluster.configPath, 'utf8');
  writeFileAtomic(cluster.configPath, withVersion(text, opts.to), statSync(cluster.configPath).mode & 0o777);
  recordApplied(cluster.state, { kubernetesVersion: opts.to, config: appliedConfig(config) });
  withFsErrors(`cannot remove ${join(cluster.state.dir, PROGRESS)}`, () => rmSync(join(cluster.state.dir, PROGRESS), { force: true }));
  return { from: progress.from, to: opts.to, steps: ran, seconds: (Date.now() - started) / 1000, ...(progress.snapshot ? { snapshot: progress.snapshot } : {}) };
}
