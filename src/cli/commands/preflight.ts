import { openCluster, sshProvider } from '../../pipeline/cluster.js';
import { formatPreflight, preflight, preflightError } from '../../pipeline/preflight.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { planCluster } from '../../plan/plan.js';
import { readRecord } from '../../runtime/deploy-record.js';
import { DockerEngine } from '../../runtime/docker.js';
import type { CliIO } from '../io.js';

/** The images' unpacked size, from this machine's engine when they are built (else a generous guess). */
const UNBUILT_IMAGES_BYTES = 2e9;

export async function run(args: { config: string; acceptNew: boolean; knownHosts?: string }, io: CliIO): Promise<void> {
  const cluster = openCluster(args.config);
  const plan = planCluster(cluster.config);
  const reporter = new ConsoleReporter(io.stderr);
  const provider = sshProvider(cluster, readRecord(cluster.state), { acceptNew: args.acceptNew, ...(args.knownHosts ? { knownHosts: args.knownHosts } : {}), onAccepted: (m) => reporter.info(m) });
  const docker = new DockerEngine();
  const engine = await docker.ping().then(() => true, () => false);
  try {
    const reports = await preflight(provider, plan, plan.nodes, async (node) => {
      const sizes = engine ? await Promise.all(node.images.map((id) => docker.imageInfo(plan.images[id]))) : [];
      const images = sizes.length > 0 && sizes.every(Boolean) ? sizes.reduce((s, i) => s + i!.size, 0) : UNBUILT_IMAGES_BYTES;
      return { images, bundle: 200e6 };
    }, reporter);
    io.stdout.write(formatPreflight(reports));
    const err = preflightError(reports, true);
    if (err) throw err;
  } finally {
    provider.close();
  }
}
