import type { CommandModule } from 'yargs';
import { fetchAndBuild } from '../../pipeline/artifacts.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { configOption } from '../options.js';
import { printWarnings } from '../output.js';

export const buildCommand: CommandModule<object, { config: string }> = {
  command: 'build',
  describe: 'build one image per component from the fetched binaries (fetches first if needed)',
  builder: (y) => y.option('config', configOption) as never,
  handler: async (args) => {
    const { config, warnings } = readClusterConfig(args.config);
    printWarnings(warnings);
    const { images } = await fetchAndBuild(config, new ConsoleReporter());
    for (const i of images) process.stdout.write(`${i.ref.padEnd(44)} ${(i.size / 1e6).toFixed(1).padStart(7)} MB  ${i.status}\n`);
  },
};
