import type { CommandModule } from 'yargs';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { saveNodeArchives } from '../../pipeline/save.js';
import { planCluster } from '../../plan/plan.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { DockerEngine } from '../../runtime/docker.js';
import { readExtraImages } from '../../runtime/extra-images.js';
import { stateDir } from '../../runtime/paths.js';
import { StateDir } from '../../runtime/state.js';
import { configOption } from '../options.js';
import { printWarnings } from '../output.js';

export const saveCommand: CommandModule<object, { config: string; out: string }> = {
  command: 'save',
  describe: 'write DIR/<node>/images.tar with exactly the images that node\'s services need (+ images.sha256, images.txt), and the cluster registry\'s storage on control planes',
  builder: (y) =>
    y.option('config', configOption).option('out', { alias: 'o', type: 'string', default: 'out', describe: 'bundle folder (as given to generate)' }) as never,
  handler: async (args) => {
    const { config, warnings } = readClusterConfig(args.config);
    printWarnings(warnings);
    const docker = new DockerEngine();
    await docker.ping();
    const extra = readExtraImages(new StateDir(stateDir(args.config, config.name)));
    const archives = await saveNodeArchives(planCluster(config), docker, args.out, new ConsoleReporter(), extra);
    for (const a of archives) process.stdout.write(`${a.file}  ${a.images.length} images  sha256 ${a.sha256.slice(0, 16)}…  ${a.status}\n`);
    process.stdout.write('on each node: docker load -i images.tar && docker compose up -d\n');
  },
};
