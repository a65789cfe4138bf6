// Reading cluster.yaml from disk (the only effect config loading needs).
import { parseClusterConfig, type LoadedConfig } from '../config/load.js';
import { readInputFile } from './input-file.js';

export function readClusterConfig(path: string): LoadedConfig {
  return parseClusterConfig(readInputFile(path, { hint: 'create one with `k8s-img init` or pass -c FILE' }), path);
}
