// Local mode's nodes: containers on this machine's engine, each a Debian machine with
// its own Docker engine, all on one bridge network. k8s-img reaches them with
// `docker exec` and `docker cp` (the engine's API).
import type { ResolvedConfig } from '../config/defaults.js';
import { enclosing, parseIPv4 } from '../config/net.js';
import { ConfigError, HostError } from '../errors.js';
import { LABEL, NODE_BUNDLE, clusterLabels, names } from '../plan/names.js';
import type { BundleTarget } from '../runtime/bundle-sync.js';
import type { DockerEngine } from '../runtime/docker.js';
import { buildNodeImage } from '../pipeline/build.js';
import type { Reporter } from '../pipeline/progress.js';
import { nodeHostConfig, nodeVarMount, removeNodeDirs, stockNodes, waitEngine } from './image-store.js';
import type { NodeArchiveList, NodeHost, NodeProvider } from './types.js';

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

/** A local node container as a bundle target: `docker exec` and `docker cp`. */
export function containerTarget(docker: DockerEngine, container: string): BundleTarget {
  return {
    exec: (argv, dir) => docker.exec(container, argv, dir ? { workdir: dir } : {}),
    putTar: (stream, dir) => docker.putArchive(container, stream, dir),
  };
}

/**
 * A local cluster's containers, volumes and network (by label) and its nodes' folders:
 * what `down` removes, and what tests use to start from nothing (a folder left behind
 * would be the next cluster of that name's /var, as a volume left behind was).
 */
export async function removeLocalCluster(docker: DockerEngine, cluster: string, spare: (labels: Record<string, string>) => boolean = () => false) {
  const removed = await docker.removeLabelled(clusterLabels(cluster), spare);
  await removeNodeDirs(docker, [names.nodeDir(cluster)]);
  return removed;
}

export class LocalProvider implements NodeProvider {
  readonly kind = 'local';
  /** The node image (`buildNodeImage`); needed only to create node containers. */
  nodeImage: string | undefined;

  constructor(
    private readonly docker: DockerEngine,
    private readonly config: ResolvedConfig,
  ) {}

  async prepare(build: { config: ResolvedConfig; docker: DockerEngine; reporter: Reporter; workDir: string }): Promise<void> {
    this.nodeImage = (await buildNodeImage(build)).ref;
  }

  private container(node: string): string {
    return names.node(this.config.name, node);
  }

  async provision(nodes: { name: string; address: string; roles: string[] }[], archives: NodeArchiveList = [], update: (detail: string) => void = () => {}): Promise<void> {
    const cluster = this.config.name;
    const network = names.network(cluster);
    if (!(await this.docker.networkExists(network))) await this.docker.createNetwork(network, localSubnet(this.config), clusterLabels(cluster));
    const fresh: typeof nodes = [];
    for (const node of nodes) {
      const state = await this.docker.containerState(this.container(node.name));
      if (state?.running) continue;
      if (state) await this.docker.startContainer(this.container(node.name));
      else fresh.push(node);
    }
    if (fresh.length > 0) {
      if (!this.nodeImage) throw new Error('LocalProvider.provision: the node image was not built'); // a programming error
      // Each new node's /var starts with every image of the cluster in its engine: the node step finds them there.
      await stockNodes(this.docker, { nodeImage: this.nodeImage, archives }, fresh.map((n) => names.nodeDir(cluster, n.name)), update);
      update(`starting ${fresh.map((n) => n.name).join(', ')}`);
    }
    for (const node of fresh) {
      await this.docker.runContainer({
        name: this.container(node.name),
        Hostname: node.name,
        Image: this.nodeImage,
        Env: [`K8S_IMG_NAMESERVERS=${(this.config.networking.upstreamDNS ?? []).join(' ')}`],
        Labels: { ...clusterLabels(cluster), [LABEL.node]: node.name, [LABEL.role]: node.roles.join(','), [LABEL.component]: 'node' },
        HostConfig: { ...nodeHostConfig(network, [nodeVarMount(cluster, node.name)]), RestartPolicy: { Name: 'unless-stopped' } },
        NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: node.address } } } },
      } as never);
    }
    await Promise.all(nodes.map((n) => waitEngine(this.docker, this.container(n.name))));
  }

  async connect(node: string): Promise<NodeHost> {
    const container = this.container(node);
    const state = await this.docker.containerState(container);
    if (!state?.running) {
      throw new HostError(`node ${node}: ${state ? 'its container is stopped' : 'no node container'} (${container})`, state ? `start it: docker start ${container}` : 'run `k8s-img up` to create it');
    }
    const docker = this.docker;
    return {
      node,
      where: `container ${container}`,
      bundleDir: NODE_BUNDLE,
      exec: (argv, dir, stdinFile) => docker.exec(container, argv, { ...(dir ? { workdir: dir } : {}), ...(stdinFile ? { stdinFile } : {}) }),
      putTar: (stream, dir) => docker.putArchive(container, stream, dir),
      getTar: (path) => docker.getArchive(container, path),
      close: () => {},
    };
  }

  async release(node: string): Promise<void> {
    await this.docker.removeLabelled({ ...clusterLabels(this.config.name), [LABEL.node]: node, [LABEL.component]: 'node' });
    await removeNodeDirs(this.docker, [names.nodeDir(this.config.name, node)]);
  }

  /** `down`: every container, volume and network of the cluster (by label), except tests' own, and its nodes' folders. */
  async removeAll(spare: (labels: Record<string, string>) => boolean) {
    return removeLocalCluster(this.docker, this.config.name, spare);
  }

  /** Whether node containers of this cluster exist on the engine. */
  async exists(): Promise<boolean> {
    return (await this.docker.list(clusterLabels(this.config.name))).some((c) => c.Labels[LABEL.component] === 'node');
  }

  close(): void {}
}
