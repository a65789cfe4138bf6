import { dayTwoNodes } from '../../daytwo/nodes.js';
import { upgrade, upgradeStart } from '../../daytwo/upgrade.js';
import { UsageError } from '../../errors.js';
import { openAnyCluster } from '../../pipeline/cluster.js';
import { describeUpgrade } from '../../pipeline/converge.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { DockerEngine } from '../../runtime/docker.js';
import type { CliIO } from '../io.js';

export async function run(args: { config?: string; to: string; batch: number; drainTimeout: number; knownHosts?: string }, io: CliIO): Promise<void> {
  if (!Number.isInteger(args.batch) || args.batch < 1) throw new UsageError(`--batch ${args.batch} is not a positive whole number`, 'give how many workers to upgrade at once, e.g. --batch 1');
  if (!(args.drainTimeout > 0)) throw new UsageError(`--drain-timeout ${args.drainTimeout} is not a positive number of seconds`, 'e.g. --drain-timeout 300');
  const { cluster } = openAnyCluster(args.config);
  // Refusals (skips, downgrades, unsupported versions, other edits) come before the engine is asked anything.
  upgradeStart(cluster, args.to);
  const docker = new DockerEngine();
  await docker.ping();
  const nodes = await dayTwoNodes(cluster, docker, 'upgrade', args.knownHosts ? { knownHosts: args.knownHosts } : {});
  let r: Awaited<ReturnType<typeof upgrade>>;
  try {
    r = await upgrade(cluster, { to: args.to, batch: args.batch, drainTimeoutMs: args.drainTimeout * 1000 }, docker, () => nodes.connect, new ConsoleReporter(io.stderr));
  } finally {
    nodes.close();
  }
  io.stdout.write(`${cluster.config.name}: ${describeUpgrade(r)}\n`);
  io.stdout.write(`${cluster.configPath} now says kubernetesVersion: "${args.to}"\n`);
}
