// Options shared by several commands.
import type { Options } from 'yargs';

export const configOption: Options = {
  alias: 'c',
  type: 'string',
  default: 'cluster.yaml',
  describe: 'cluster configuration file',
};
