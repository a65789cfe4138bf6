// Local mode: a whole multi-node cluster on this machine, each node a container
// with its own Docker engine. On each node k8s-img does what a user does on a real
// machine: copy the bundle, `docker load` the node's archive, `docker compose up -d`.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { ResolvedConfig } from '../config/defaults.js';
import type { LoadedConfig } from '../config/load.js';
import { enclosing, parseIPv4 } from '../config/net.js';
import type { ClusterConfig } from '../config/schema.js';
import { TUTORIAL_TOPOLOGY } from '../config/tutorial.js';
import { ClusterError, ConfigError, HostError } from '../errors.js';
import type { ClusterPlan } from '../plan/types.js';
import { LABEL } from '../render/compose.js';
import { readClusterConfig } from '../runtime/config-file.js';
import type { DockerEngine } from '../runtime/docker.js';
import { syncBundle, type BundleTarget } from '../runtime/bundle-sync.js';
import { writeFileAtomic } from '../runtime/files.js';
import { withFsErrors } from '../runtime/fs-errors.js';
import { localStateRoot, stateDir } from '../runtime/paths.js';
import { StateDir } from '../runtime/state.js';

export const LOCAL_DEFAULT_NAME = 'local';
/** Where the bundle lives on a node, as a user would copy it there. */
export const NODE_BUNDLE = '/opt/k8s-img/bundle';

/** A cluster k8s-img runs locally: its configuration and where its state lives. */
export interface LocalCluster {
  config: ResolvedConfig;
  warnings: LoadedConfig['warnings'];
  state: StateDir;
  configPath: string;
}

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

/**
 * Finds the local cluster: `-c FILE` (its state next to the file), or the default
 * cluster, whose configuration `up` wrote into the state root.
 */
export function openLocalCluster(configPath: string | undefined, create = false): LocalCluster {
  if (configPath) {
    const loaded = readClusterConfig(configPath);
    // Docker's embedded DNS (127.0.0.11) is unreachable from pods: forward to the host's resolvers.
    const config = loaded.config.networking.upstreamDNS === undefined
      ? { ...loaded.config, networking: { ...loaded.config.networking, upstreamDNS: hostResolvers() } }
      : loaded.config;
    return { config, warnings: loaded.warnings, state: new StateDir(stateDir(configPath, config.name)), configPath };
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

/** The local network: the /24 around the nodes (local mode puts every node on one bridge). */
export function localSubnet(config: ResolvedConfig): string {
  const nets = new Set(config.nodes.map((n) => enclosing(parseIPv4(n.address)!, 24).text));
  if (nets.size !== 1) {
    throw new ConfigError(
      [{ path: 'nodes', severity: 'error', message: `local mode puts all nodes on one /24 network, these span ${[...nets].join(', ')}`, hint: 'give the nodes addresses in one /24, e.g. 192.168.232.x' }],
      'local cluster',
    );
  }
  return [...nets][0]!;
}

export const names = {
  network: (cluster: string) => `k8s-img-${cluster}`,
  node: (cluster: string, node: string) => `k8s-img-${cluster}-${node}`,
  volume: (cluster: string, node: string) => `k8s-img-${cluster}-${node}-var`,
};

export function clusterLabels(cluster: string): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.cluster]: cluster };
}

/** Test suites mark what they start with this label (value: the cluster it belongs to, or "true"). */
export const TEST_LABEL = 'io.k8s-img.test';

/**
 * Whether `down` of `cluster` must leave a container alone although it carries the
 * cluster's labels: it belongs to a test (e.g. started from an image that carried
 * the cluster label), unless the test label names this very cluster.
 */
export function spareOnDown(cluster: string): (labels: Record<string, string>) => boolean {
  return (labels) => labels[TEST_LABEL] !== undefined && labels[TEST_LABEL] !== cluster;
}

/** Starts (or finds running) the node containers on their network. */
export async function provisionNodes(docker: DockerEngine, plan: ClusterPlan, config: ResolvedConfig, nodeImage: string): Promise<void> {
  const labels = clusterLabels(plan.cluster);
  const network = names.network(plan.cluster);
  if (!(await docker.networkExists(network))) await docker.createNetwork(network, localSubnet(config), labels);
  for (const node of plan.nodes) {
    const name = names.node(plan.cluster, node.name);
    const state = await docker.containerState(name);
    if (state?.running) continue;
    if (state) {
      await docker.startContainer(name);
      continue;
    }
    const nodeLabels = { ...labels, [LABEL.node]: node.name, [LABEL.role]: node.roles.join(','), [LABEL.component]: 'node' };
    await docker.createVolume(names.volume(plan.cluster, node.name), nodeLabels);
    await docker.runContainer({
      name,
      Hostname: node.name,
      Image: nodeImage,
      Env: [`K8S_IMG_NAMESERVERS=${(config.networking.upstreamDNS ?? []).join(' ')}`],
      Labels: nodeLabels,
      HostConfig: {
        Privileged: true,
        // Each kubelet gets a cgroup tree of its own (several kubelets sharing one clean up each other's pods).
        CgroupnsMode: 'private',
        Tmpfs: { '/run': 'rw,nosuid,nodev,exec,size=512m', '/tmp': 'rw,nosuid,nodev,exec,size=512m' },
        Binds: ['/lib/modules:/lib/modules:ro', `${names.volume(plan.cluster, node.name)}:/var`],
        NetworkMode: network,
        RestartPolicy: { Name: 'unless-stopped' },
        SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      },
      NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: node.address } } } },
    } as never);
  }
}

/** Waits until the node's own Docker engine answers. */
export async function waitNodeEngine(docker: DockerEngine, container: string, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await docker.exec(container, ['docker', 'info', '--format', '{{.ServerVersion}}']).catch(() => undefined);
    if (r?.code === 0) return;
    if (Date.now() > deadline) throw new HostError(`the Docker engine inside ${container} did not start`, `see \`docker logs ${container}\``);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** `docker load` the node's archive unless it already holds exactly those images. */
export async function loadNodeImages(docker: DockerEngine, container: string, bundleDir: string): Promise<'loaded' | 'present'> {
  return loadImagesOn({ where: container, exec: (argv, _dir, stdinFile) => docker.exec(container, argv, stdinFile ? { stdinFile } : {}) }, bundleDir);
}

/** The same on any node that runs argv with a local file as stdin (a node container, an SSH host). */
export async function loadImagesOn(
  node: { where: string; exec(argv: string[], dir?: string, stdinFile?: string): Promise<{ code: number; stdout: string; stderr: string }> },
  bundleDir: string,
): Promise<'loaded' | 'present'> {
  const wanted = readFileSync(join(bundleDir, 'images.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]);
  const check = await node.exec(['docker', 'image', 'inspect', '--format', '{{.Id}}', ...wanted.map(([ref]) => ref)]);
  const have = check.stdout.trim().split('\n');
  if (check.code === 0 && wanted.every(([, id], i) => have[i] === id)) return 'present';
  const r = await node.exec(['docker', 'load', '-q'], undefined, join(bundleDir, 'images.tar'));
  if (r.code !== 0) throw new HostError(`docker load on ${node.where} failed: ${r.stderr.trim()}`, 'is the disk full? (df -h /var/lib/docker)');
  return 'loaded';
}

/** A local node container as a bundle target: `docker exec` and `docker cp`. */
export function containerTarget(docker: DockerEngine, container: string): BundleTarget {
  return {
    exec: (argv, dir) => docker.exec(container, argv, dir ? { workdir: dir } : {}),
    putTar: (stream, dir) => docker.putArchive(container, stream, dir),
  };
}

/**
 * Brings the bundle on the node up to date (only changed files travel), then runs
 * `docker compose up -d` there: services whose files changed are recreated.
 */
export async function composeUp(docker: DockerEngine, container: string, bundleDir: string): Promise<void> {
  await syncBundle(containerTarget(docker, container), bundleDir, NODE_BUNDLE);
  const r = await docker.exec(container, ['docker', 'compose', 'up', '-d', '--remove-orphans'], { workdir: NODE_BUNDLE });
  if (r.code !== 0) {
    throw new ClusterError(`docker compose up on ${container} failed:\n${(r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n')}`, `see \`docker exec ${container} docker ps -a\` and the logs of the failed service`);
  }
}

export function bundlesDir(state: StateDir): string {
  return join(state.dir, 'bundles');
}

export function adminKubeconfigPath(state: StateDir): string {
  return join(state.dir, 'kubeconfig');
}
