import { clusterLabels, openLocalCluster, spareOnDown } from '../../pipeline/local.js';
import { contextName, removeUserKubeconfig } from '../../pipeline/user-kubeconfig.js';
import { planCluster } from '../../plan/plan.js';
import { DockerEngine } from '../../runtime/docker.js';
import type { CliIO } from '../io.js';

export async function run(args: { config?: string }, io: CliIO): Promise<void> {
  const { config } = openLocalCluster(args.config);
  const docker = new DockerEngine();
  await docker.ping();
  const removed = await docker.removeLabelled(clusterLabels(config.name), spareOnDown(config.name));
  io.stdout.write(`cluster "${config.name}": removed ${removed.containers} containers, ${removed.volumes} volumes, ${removed.networks} networks\n`);
  const file = await removeUserKubeconfig(planCluster(config));
  if (file) io.stdout.write(`context ${contextName(config.name)} removed from ${file}\n`);
}
