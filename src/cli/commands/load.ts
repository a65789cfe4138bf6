import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { openLocalCluster } from '../../pipeline/local.js';
import { loadImages } from '../../pipeline/load.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { parseImageName } from '../../plan/image-name.js';
import { DockerEngine } from '../../runtime/docker.js';
import { statInputFile } from '../../runtime/input-file.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

interface Args {
  images?: string[];
  config?: string;
  archive?: string;
  nodes?: string;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export async function run(args: Args, io: CliIO): Promise<void> {
  if (args.nodes !== undefined) {
    throw new UsageError(
      '--nodes: k8s-img load puts an image into the cluster\'s registry, from which every node pulls it; there is no per-node copy to choose',
      'choose where pods run with a nodeSelector or node affinity',
    );
  }
  const refs = args.images ?? [];
  if (refs.length === 0 && !args.archive) throw new UsageError('name the images to load, or pass --archive FILE', 'k8s-img load IMAGE... or k8s-img load --archive FILE.tar [IMAGE...]');
  for (const r of refs) {
    if (!parseImageName(r)) throw new UsageError(`${JSON.stringify(r)} is not an image name [host[:port]/]path[:tag]`, 'the registry serves images by name and tag: give the tag, not a digest');
  }
  if (args.archive) statInputFile(args.archive, { hint: 'pass an OCI layout or a docker save archive (.tar or .tar.gz)' });
  const cluster = openLocalCluster(args.config);
  printWarnings(cluster.warnings, io.stderr);
  const docker = new DockerEngine();
  await docker.ping();
  const r = await loadImages(cluster, { refs, ...(args.archive ? { archive: args.archive } : {}) }, docker, new ConsoleReporter(io.stderr));

  const width = Math.max(...r.images.map((i) => i.ref.length));
  io.stdout.write(`cluster "${r.plan.cluster}": ${r.images.length} image(s) in the cluster's registry\n`);
  for (const i of r.images) io.stdout.write(`  ${i.ref.padEnd(width)}  ${i.platform}  ${i.manifest.slice(0, 19)}…  ${mb(i.bytes)}\n`);
  if (!r.registry) {
    io.stdout.write(
      `no node of cluster "${r.plan.cluster}" is reachable from here: recorded in ${join(cluster.state.dir, 'images.json')}.\n` +
        `The next \`k8s-img up\` (local) or \`k8s-img save -o DIR\` (machines: the control planes' registry-storage/) ships it.\n`,
    );
    return;
  }
  io.stdout.write('sent to the registry copies (only what each lacked):\n');
  for (const s of r.registry) io.stdout.write(`  ${s.node}  ${s.files} files, ${mb(s.bytes)} (${s.bytes} bytes)\n`);
  const pullers = r.plan.nodes.filter((n) => !r.plan.registry.nodes.includes(n.name)).map((n) => n.name);
  io.stdout.write(`every node pulls it from there when a pod needs it${pullers.length > 0 ? ` (${pullers.join(', ')} included)` : ''}, under any imagePullPolicy\n`);
}
