import type { CommandModule } from 'yargs';
import { adminKubeconfig } from '../../runtime/admin-kubeconfig.js';
import { writeFileAtomic } from '../../runtime/files.js';
import { renderCluster, writeBundles } from '../../pipeline/generate.js';
import { adminKubeconfigPath } from '../../pipeline/local.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { stateDir } from '../../runtime/paths.js';
import { StateDir } from '../../runtime/state.js';
import { defaultIssuers } from '../../runtime/issuers.js';
import { configOption } from '../options.js';
import { printWarnings } from '../output.js';

interface Args {
  config: string;
  out: string;
}

export const generateCommand: CommandModule<object, Args> = {
  command: 'generate',
  describe: 'write one Compose bundle per node: DIR/<node>/compose.yaml and its files',
  builder: (y) =>
    y.option('config', configOption).option('out', { alias: 'o', type: 'string', default: 'out', describe: 'output folder (replaced atomically)' }) as never,
  handler: async (args) => {
    const { config, warnings } = readClusterConfig(args.config);
    const state = new StateDir(stateDir(args.config, config.name));
    const result = await renderCluster(config, state, defaultIssuers());
    printWarnings([...warnings, ...result.plan.warnings]);
    writeBundles(args.out, result);
    // The admin's kubeconfig stays with the state, never in a node's bundle.
    writeFileAtomic(adminKubeconfigPath(state), adminKubeconfig(result.plan, result.secrets), 0o600);
    for (const [node, files] of result.bundles) process.stdout.write(`${args.out}/${node}/  ${files.length} files\n`);
    process.stderr.write(`keys and certificates: ${state.dir}\nadmin kubeconfig: ${adminKubeconfigPath(state)}\n`);
  },
};
