import { readClusterConfig } from '../../runtime/config-file.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export function run(args: { config: string }, io: CliIO): void {
  const { config, warnings } = readClusterConfig(args.config);
  printWarnings(warnings, io.stderr);
  io.stdout.write(`${args.config}: valid (cluster "${config.name}", ${config.nodes.length} nodes, Kubernetes ${config.kubernetesVersion}, ${config.security.mode} mode)\n`);
}
