import type { CommandModule } from 'yargs';
import { clusterLabels, openLocalCluster } from '../../pipeline/local.js';
import { DockerEngine } from '../../runtime/docker.js';

export const downCommand: CommandModule<object, { config?: string }> = {
  command: 'down',
  describe: 'remove the local cluster\'s node containers, network and volumes (found by label); keys stay',
  builder: (y) => y.option('config', { alias: 'c', type: 'string', describe: 'cluster configuration given to `up`' }) as never,
  handler: async (args) => {
    const { config } = openLocalCluster(args.config);
    const docker = new DockerEngine();
    await docker.ping();
    const removed = await docker.removeLabelled(clusterLabels(config.name));
    process.stdout.write(`cluster "${config.name}": removed ${removed.containers} containers, ${removed.volumes} volumes, ${removed.networks} networks\n`);
  },
};
