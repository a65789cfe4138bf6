import { ConsoleReporter } from '../../pipeline/progress.js';
import { saveNodeArchives } from '../../pipeline/save.js';
import { protectedPaths } from '../../pipeline/generate.js';
import { planCluster } from '../../plan/plan.js';
import { checkOutputDir, markOutputDir } from '../../runtime/output-dir.js';
import { stateDir } from '../../runtime/paths.js';
import { StateDir } from '../../runtime/state.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { DockerEngine } from '../../runtime/docker.js';
import { readExtraImages } from '../../runtime/extra-images.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export async function run(args: { config: string; out: string }, io: CliIO): Promise<void> {
  const { config, warnings } = readClusterConfig(args.config);
  printWarnings(warnings, io.stderr);
  const plan = planCluster(config);
  const state = new StateDir(stateDir(args.config, config.name));
  const out = checkOutputDir(args.out, protectedPaths(args.config, state));
  const docker = new DockerEngine();
  await docker.ping();
  markOutputDir(out, plan.nodes.map((n) => n.name));
  const archives = await saveNodeArchives(plan, docker, out.dir, new ConsoleReporter(io.stderr), readExtraImages(state));
  for (const a of archives) io.stdout.write(`${a.file}  ${a.images.length} images  sha256 ${a.sha256.slice(0, 16)}…  ${a.status}\n`);
  io.stdout.write('on each node: docker load -i images.tar && docker compose up -d\n');
}
