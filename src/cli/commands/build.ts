import { fetchAndBuild } from '../../pipeline/artifacts.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export async function run(args: { config: string; locked?: boolean }, io: CliIO): Promise<void> {
  const { config, warnings } = readClusterConfig(args.config);
  printWarnings(warnings, io.stderr);
  const { images } = await fetchAndBuild(config, new ConsoleReporter(io.stderr), undefined, { locked: args.locked ?? false });
  for (const i of images) io.stdout.write(`${i.ref.padEnd(44)} ${(i.size / 1e6).toFixed(1).padStart(7)} MB  ${i.status}\n`);
}
