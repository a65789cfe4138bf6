// Reading cluster.yaml from disk (the only effect config loading needs).
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseClusterConfig, type LoadedConfig } from '../config/load.js';

export function readClusterConfig(path: string): LoadedConfig {
  if (!existsSync(path)) {
    throw new ConfigError([{ path, message: 'file not found', hint: 'create one with `k8s-img init` or pass -c FILE', severity: 'error' }], path);
  }
  return parseClusterConfig(readFileSync(path, 'utf8'), path);
}
