import type { CommandModule } from 'yargs';
import { planCluster } from '../../plan/plan.js';
import { renderDiagram } from '../../render/diagram.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { configOption } from '../options.js';
import { printWarnings } from '../output.js';

export const planCommand: CommandModule<object, { config: string; json: boolean }> = {
  command: 'plan',
  describe: 'show which node runs what: images, ports, privileges (a picture, or --json)',
  builder: (y) => y.option('config', configOption).option('json', { type: 'boolean', default: false, describe: 'print the full plan as JSON' }) as never,
  handler: (args) => {
    const { config, warnings } = readClusterConfig(args.config);
    const plan = planCluster(config);
    printWarnings([...warnings, ...plan.warnings]);
    process.stdout.write(args.json ? `${JSON.stringify(plan, null, 2)}\n` : renderDiagram(plan));
  },
};
