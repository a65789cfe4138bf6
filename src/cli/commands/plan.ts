import { planCluster } from '../../plan/plan.js';
import { renderDiagram } from '../../render/diagram.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export function run(args: { config: string; json: boolean }, io: CliIO): void {
  const { config, warnings } = readClusterConfig(args.config);
  const plan = planCluster(config);
  printWarnings([...warnings, ...plan.warnings], io.stderr);
  io.stdout.write(args.json ? `${JSON.stringify(plan, null, 2)}\n` : renderDiagram(plan));
}
