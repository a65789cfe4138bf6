// A cluster as the commands that act on it see it: its configuration, its state folder
// (keys, bundles, the admin kubeconfig, the record of what runs where) and the provider
// that reaches its nodes.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import type { ResolvedConfig } from '../config/defaults.js';
import type { LoadedConfig } from '../config/load.js';
import { parseIPv4 } from '../config/net.js';
import type { ClusterConfig } from '../config/schema.js';
import { TUTORIAL_TOPOLOGY } from '../config/tutorial.js';
import { ClusterError } from '../errors.js';
import { LocalProvider } from '../providers/local.js';
import { SshProvider, sshTargets } from '../providers/ssh.js';
import type { NodeProvider } from '../providers/types.js';
import { readClusterConfig } from '../runtime/config-file.js';
import { readRecord, type DeployRecord } from '../runtime/deploy-record.js';
import type { DockerEngine } from '../runtime/docker.js';
import { writeFileAtomic } from '../runtime/files.js';
import { withFsErrors } from '../runtime/fs-errors.js';
import { KnownHostsFile } from '../runtime/known-hosts.js';
import { localStateRoot, stateDir } from '../runtime/paths.js';
import { StateDir } from '../runtime/state.js';

export const LOCAL_DEFAULT_NAME = 'local';

/** A cluster k8s-img runs: its configuration and where its state lives. */
export interface ClusterHandle {
  config: ResolvedConfig;
  warnings: LoadedConfig['warnings'];
  state: StateDir;
  configPath: string;
}
/** The name callers of the local-only days use. */
export type LocalCluster = ClusterHandle;

/** The tutorial's topology: sm1 control plane; sw1 worker + etcd; sw2 worker. */
export function defaultLocalConfig(upstreamDNS: string[]): ClusterConfig {
  return { ...TUTORIAL_TOPOLOGY, name: LOCAL_DEFAULT_NAME, networking: { upstreamDNS } };
}

/** The host's resolvers that a container can reach (not loopback): where CoreDNS forwards. */
export function hostResolvers(resolvConf = '/etc/resolv.conf'): string[] {
  if (!existsSync(resolvConf)) return [];
  return readFileSync(resolvConf, 'utf8')
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((ip): ip is string => Boolean(ip) && parseIPv4(ip!) !== undefined && !ip!.startsWith('127.'));
}

/** `-c FILE`: the cluster of that file, its state next to it. Real machines keep their own resolv.conf. */
export function openCluster(configPath: string): ClusterHandle {
  const loaded = readClusterConfig(configPath);
  return { config: loaded.config, warnings: loaded.warnings, state: new StateDir(stateDir(configPath, loaded.config.name)), configPath };
}

/**
 * The cluster of local mode: `-c FILE`, or the default cluster, whose configuration
 * `up` wrote into the state root.
 */
export function openLocalCluster(configPath: string | undefined, create = false): ClusterHandle {
  if (configPath) {
    const c = openCluster(configPath);
    // Docker's embedded DNS (127.0.0.11) is unreachable from pods: forward to the host's resolvers.
    if (c.config.networking.upstreamDNS !== undefined) return c;
    return { ...c, config: { ...c.config, networking: { ...c.config.networking, upstreamDNS: hostResolvers() } } };
  }
  const dir = join(localStateRoot(), LOCAL_DEFAULT_NAME);
  const path = join(dir, 'cluster.yaml');
  if (!existsSync(path)) {
    if (!create) throw new ClusterError('no local cluster has been started', 'start one with `k8s-img up`');
    withFsErrors(`cannot create ${dir}`, () => mkdirSync(dir, { recursive: true, mode: 0o700 })); // it will hold the keys
    writeFileAtomic(path, `# written by k8s-img up: the default local cluster (the tutorial's topology)\n${YAML.stringify(defaultLocalConfig(hostResolvers()))}`);
  }
  const loaded = readClusterConfig(path);
  return { config: loaded.config, warnings: loaded.warnings, state: new StateDir(dir), configPath: path };
}

/**
 * The cluster a command names, opened as it was deployed: with `deploy` (a record of
 * SSH machines), as written; otherwise as local mode opens it.
 */
export function openAnyCluster(configPath: string | undefined): { cluster: ClusterHandle; record: DeployRecord | undefined } {
  const local = openLocalCluster(configPath);
  const record = readRecord(local.state);
  return { cluster: record?.provider === 'ssh' && configPath ? openCluster(configPath) : local, record };
}

export { adminKubeconfigPath, bundlesDir } from '../runtime/state.js';

export interface SshOptions {
  /** known_hosts to check host keys against (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  acceptNew?: boolean;
  onAccepted?: (message: string) => void;
}

export const DEFAULT_KNOWN_HOSTS = join(homedir(), '.ssh', 'known_hosts');

/**
 * The SSH provider for a cluster: targets from cluster.yaml, and for nodes that left
 * it, from the record (so they can still be drained and torn down).
 */
export function sshProvider(cluster: ClusterHandle, record: DeployRecord | undefined, opts: SshOptions): SshProvider {
  const targets = sshTargets(cluster.config);
  for (const n of record?.nodes ?? []) if (!targets.has(n.name) && n.ssh) targets.set(n.name, n.ssh);
  return new SshProvider(targets, { knownHosts: new KnownHostsFile(opts.knownHosts ?? DEFAULT_KNOWN_HOSTS), acceptNew: opts.acceptNew ?? false, ...(opts.onAccepted ? { onAccepted: opts.onAccepted } : {}) });
}

/**
 * How to reach the nodes of a running cluster: over SSH when `deploy` put it there, as
 * node containers when they exist here; undefined for machines set up by hand.
 */
export async function providerFor(cluster: ClusterHandle, record: DeployRecord | undefined, docker: DockerEngine, ssh: SshOptions = {}): Promise<NodeProvider | undefined> {
  if (record?.provider === 'ssh') return sshProvider(cluster, record, ssh);
  const local = new LocalProvider(docker, cluster.config);
  return (await local.exists()) ? local : undefined;
}
