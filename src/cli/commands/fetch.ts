import { exportMirror, fetchBinaries } from '../../pipeline/fetch.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { BinaryCache } from '../../runtime/bincache.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { GoToolchain } from '../../runtime/gotool.js';
import { cacheDir } from '../../runtime/paths.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export async function run(args: { config: string; export?: string }, io: CliIO): Promise<void> {
  const { config, warnings } = readClusterConfig(args.config);
  printWarnings(warnings, io.stderr);
  const reporter = new ConsoleReporter(io.stderr);
  const cache = new BinaryCache(cacheDir());
  const bins = await fetchBinaries({ config, cache, go: new GoToolchain({ proxy: config.binaries.goproxy }), reporter });
  for (const [name, b] of Object.entries(bins).sort()) {
    io.stdout.write(`${name.padEnd(24)} ${b.version.padEnd(10)} ${(b.size / 1e6).toFixed(1).padStart(6)} MB  ${b.source}\n`);
  }
  if (args.export) {
    await exportMirror(config, bins, args.export, reporter);
    io.stdout.write(`mirror written to ${args.export}\n`);
  }
}
