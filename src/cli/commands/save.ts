import { ConsoleReporter } from '../../pipeline/progress.js';
import { saveNodeArchives } from '../../pipeline/save.js';
import { planCluster } from '../../plan/plan.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { DockerEngine } from '../../runtime/docker.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export async function run(args: { config: string; out: string }, io: CliIO): Promise<void> {
  const { config, warnings } = readClusterConfig(args.config);
  printWarnings(warnings, io.stderr);
  const docker = new DockerEngine();
  await docker.ping();
  const archives = await saveNodeArchives(planCluster(config), docker, args.out, new ConsoleReporter(io.stderr));
  for (const a of archives) io.stdout.write(`${a.file}  ${a.images.length} images  sha256 ${a.sha256.slice(0, 16)}…  ${a.status}\n`);
  io.stdout.write('on each node: docker load -i images.tar && docker compose up -d\n');
}
