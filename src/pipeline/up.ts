// up: local mode. The converge pipeline over node containers on this machine's engine.
import { chmodSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterPlan } from '../plan/types.js';
import { LocalProvider, localSubnet } from '../providers/local.js';
import { DockerEngine } from '../runtime/docker.js';
import { openLocalCluster, type ClusterHandle } from './cluster.js';
import { converge, type ConvergeResult, type NodeOutcome, type Timings } from './converge.js';
import type { Reporter } from './progress.js';

export interface UpResult {
  cluster: ClusterHandle;
  plan: ClusterPlan;
  kubeconfig: string;
  kubectl: string;
  outcomes: NodeOutcome[];
  removed: string[];
  /** An edited kubernetesVersion: the rolling upgrade that ran first. */
  upgraded?: ConvergeResult['upgraded'];
  /** Seconds from the start of `up` to each milestone (the benchmark's numbers when images are built). */
  timings: Timings;
}

export async function up(configPath: string | undefined, reporter: Reporter, docker = new DockerEngine()): Promise<UpResult> {
  const cluster = openLocalCluster(configPath, true);
  localSubnet(cluster.config); // fail early when the nodes do not share one /24
  const r = await converge(cluster, new LocalProvider(docker, cluster.config), docker, reporter, `k8s-img up${configPath ? ` -c ${configPath}` : ''}`);
  return { cluster, plan: r.plan, ...(r.upgraded ? { upgraded: r.upgraded } : {}), kubeconfig: r.kubeconfig, kubectl: installKubectl(r.artifacts.bins.kubectl.path), outcomes: r.outcomes, removed: r.removed, timings: r.timings };
}

/** Puts the built kubectl on PATH when there is none, so `kubectl get nodes` just works. */
export function installKubectl(built: string): string {
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
