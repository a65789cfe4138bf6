import { openAnyCluster } from '../../pipeline/cluster.js';
import { down } from '../../pipeline/down.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { DockerEngine } from '../../runtime/docker.js';
import type { CliIO } from '../io.js';

export async function run(args: { config?: string; knownHosts?: string }, io: CliIO): Promise<void> {
  const { cluster, record } = openAnyCluster(args.config);
  const summary = await down(cluster, record, new DockerEngine(), { ...(args.knownHosts ? { knownHosts: args.knownHosts } : {}) }, new ConsoleReporter(io.stderr));
  io.stdout.write(`${summary}\n`);
}
