import type { CommandModule } from 'yargs';
import { exportMirror, fetchBinaries } from '../../pipeline/fetch.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { BinaryCache } from '../../runtime/bincache.js';
import { readClusterConfig } from '../../runtime/config-file.js';
import { GoToolchain } from '../../runtime/gotool.js';
import { cacheDir } from '../../runtime/paths.js';
import { configOption } from '../options.js';
import { printWarnings } from '../output.js';

interface Args {
  config: string;
  export?: string;
}

export const fetchCommand: CommandModule<object, Args> = {
  command: 'fetch',
  describe: 'get the component binaries (binaries.source: go | release | dir) into the cache',
  builder: (y) =>
    y.option('config', configOption).option('export', { type: 'string', describe: 'also write them as a release mirror in DIR (for binaries.source: release)' }) as never,
  handler: async (args) => {
    const { config, warnings } = readClusterConfig(args.config);
    printWarnings(warnings);
    const reporter = new ConsoleReporter();
    const cache = new BinaryCache(cacheDir());
    const bins = await fetchBinaries({ config, cache, go: new GoToolchain({ proxy: config.binaries.goproxy }), reporter });
    for (const [name, b] of Object.entries(bins).sort()) {
      process.stdout.write(`${name.padEnd(24)} ${b.version.padEnd(10)} ${(b.size / 1e6).toFixed(1).padStart(6)} MB  ${b.source}\n`);
    }
    if (args.export) {
      await exportMirror(config, bins, args.export, reporter);
      process.stdout.write(`mirror written to ${args.export}\n`);
    }
  },
};
