import type { CommandModule } from 'yargs';
import { readClusterConfig } from '../../runtime/config-file.js';
import { configOption } from '../options.js';
import { printWarnings } from '../output.js';

export const validateCommand: CommandModule<object, { config: string }> = {
  command: 'validate',
  describe: 'check a cluster configuration and report every problem',
  builder: (y) => y.option('config', configOption) as never,
  handler: (args) => {
    const { config, warnings } = readClusterConfig(args.config);
    printWarnings(warnings);
    process.stdout.write(`${args.config}: valid (cluster "${config.name}", ${config.nodes.length} nodes, Kubernetes ${config.kubernetesVersion}, ${config.security.mode} mode)\n`);
  },
};
