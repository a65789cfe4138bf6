import { ClusterError } from '../../errors.js';
import { openAnyCluster, providerFor } from '../../pipeline/cluster.js';
import { clusterStatus, formatChecks } from '../../pipeline/status.js';
import { DockerEngine } from '../../runtime/docker.js';
import type { CliIO } from '../io.js';

export async function run(args: { config?: string; json: boolean; knownHosts?: string }, io: CliIO): Promise<void> {
  const { cluster, record } = openAnyCluster(args.config);
  const docker = new DockerEngine();
  if (record?.provider !== 'ssh') await docker.ping();
  const provider = await providerFor(cluster, record, docker, { ...(args.knownHosts ? { knownHosts: args.knownHosts } : {}) });
  try {
    const { checks } = await clusterStatus(cluster, provider);
    io.stdout.write(args.json ? `${JSON.stringify(checks, null, 2)}\n` : formatChecks(checks));
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      throw new ClusterError(`${failed.length} check(s) failed: ${failed.map((c) => `${c.scope}/${c.name}`).join(', ')}`, 'the failing checks above name the node, the component, the URL probed and its last log lines');
    }
  } finally {
    provider?.close();
  }
}
