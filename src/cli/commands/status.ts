import { ClusterError } from '../../errors.js';
import { openLocalCluster } from '../../pipeline/local.js';
import { clusterStatus, formatChecks } from '../../pipeline/status.js';
import { DockerEngine } from '../../runtime/docker.js';
import type { CliIO } from '../io.js';

export async function run(args: { config?: string; json: boolean }, io: CliIO): Promise<void> {
  const cluster = openLocalCluster(args.config);
  const docker = new DockerEngine();
  await docker.ping();
  const { checks } = await clusterStatus(cluster, docker);
  io.stdout.write(args.json ? `${JSON.stringify(checks, null, 2)}\n` : formatChecks(checks));
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new ClusterError(`${failed.length} check(s) failed: ${failed.map((c) => `${c.scope}/${c.name}`).join(', ')}`, 'the failing checks above name the node, the component, the URL probed and its last log lines');
  }
}
