// Options shared by several commands. Every value-taking option requires its
// value, so `-c` at the end of the line is a usage error, not "cluster.yaml".
import type { Options } from 'yargs';

export const configOption: Options = {
  alias: 'c',
  type: 'string',
  requiresArg: true,
  default: 'cluster.yaml',
  describe: 'cluster configuration file',
};

/** For commands that fall back to the default local cluster. */
export const localConfigOption = (describe: string): Options => ({ alias: 'c', type: 'string', requiresArg: true, describe });

export const outOption = (describe: string, byDefault = 'out'): Options => ({ alias: 'o', type: 'string', requiresArg: true, default: byDefault, describe });

export const knownHostsOption: Options = {
  type: 'string',
  requiresArg: true,
  describe: 'known_hosts file that host keys are checked against (default: ~/.ssh/known_hosts)',
};

export const acceptNewOption: Options = {
  type: 'boolean',
  default: false,
  describe: 'record the host key of a machine not yet in known_hosts (printed with its fingerprint); a changed key is always refused',
};

/** Options that take exactly one value; given twice they are a usage error. */
export const SINGLE_VALUED = ['config', 'out', 'name', 'export', 'known-hosts'] as const;
