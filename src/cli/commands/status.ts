import type { CommandModule } from 'yargs';
import { ClusterError } from '../../errors.js';
import { openLocalCluster } from '../../pipeline/local.js';
import { clusterStatus, formatChecks } from '../../pipeline/status.js';
import { DockerEngine } from '../../runtime/docker.js';

export const statusCommand: CommandModule<object, { config?: string; json: boolean }> = {
  command: 'status',
  describe: 'check every component on every node, etcd, nodes, Calico and CoreDNS',
  builder: (y) =>
    y
      .option('config', { alias: 'c', type: 'string', describe: 'cluster configuration given to `up` (default: the local cluster)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the checks as JSON' }) as never,
  handler: async (args) => {
    const cluster = openLocalCluster(args.config);
    const docker = new DockerEngine();
    await docker.ping();
    const { checks } = await clusterStatus(cluster, docker);
    process.stdout.write(args.json ? `${JSON.stringify(checks, null, 2)}\n` : formatChecks(checks));
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      throw new ClusterError(`${failed.length} check(s) failed: ${failed.map((c) => `${c.scope}/${c.name}`).join(', ')}`, 'the failing checks above name the node, the component, the URL probed and its last log lines');
    }
  },
};
