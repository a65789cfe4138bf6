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
import type { NodeHost, NodeProvider } from './types.js';

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

  async provision(nodes: { name: string; address: string; roles: string[] }[]): Promise<void> {
    const cluster = this.config.name;
    const labels = clusterLabels(cluster);
    const network = names.network(cluster);
    if (!(await this.docker.networkExists(network))) await this.docker.createNetwork(network, localSubnet(this.config), labels);
    for (const node of nodes) {
      const name = this.container(node.name);
      const state = await this.docker.containerState(name);
      if (state?.running) continue;
      if (state) {
        await this.docker.startContainer(name);
        continue;
      }
      if (!this.nodeImage) throw new Error('LocalProvider.provision: the node image was not built'); // a programming error
      const nodeLabels = { ...labels, [LABEL.node]: node.name, [LABEL.role]: node.roles.join(','), [LABEL.component]: 'node' };
      await this.docker.createVolume(names.volume(cluster, node.name), nodeLabels);
      await this.docker.runContainer({
        name,
        Hostname: node.name,
        Image: this.nodeImage,
        Env: [`K8S_IMG_NAMESERVERS=${(this.config.networking.upstreamDNS ?? []).join(' ')}`],
        Labels: nodeLabels,
        HostConfig: {
          Privileged: true,
          // Each kubelet gets a cgroup tree of its own (several kubelets sharing one clean up each other's pods).
          CgroupnsMode: 'private',
          Tmpfs: { '/run': 'rw,nosuid,nodev,exec,size=512m', '/tmp': 'rw,nosuid,nodev,exec,size=512m' },
          Binds: ['/lib/modules:/lib/modules:ro', `${names.volume(cluster, node.name)}:/var`],
          NetworkMode: network,
          RestartPolicy: { Name: 'unless-stopped' },
          SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
        },
        NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: node.address } } } },
      } as never);
    }
    await Promise.all(nodes.map((n) => this.waitEngine(this.container(n.name))));
  }

  /** Waits until the node's own Docker engine answers. */
  private async waitEngine(container: string, timeoutMs = 60000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.docker.exec(container, ['docker', 'info', '--format', '{{.ServerVersion}}']).catch(() => undefined);
      if (r?.code === 0) return;
      if (Date.now() > deadline) throw new HostError(`the Docker engine inside ${container} did not start`, `see \`docker logs ${container}\``);
      await new Promise((res) => setTimeout(res, 500));
    }
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
  }

  /** `down`: every container, volume and network of the cluster (by label), except tests' own. */
  async removeAll(spare: (labels: Record<string, string>) => boolean) {
    return this.docker.removeLabelled(clusterLabels(this.config.name), spare);
  }

  /** Whether node containers of this cluster exist on the engine. */
  async exists(): Promise<boolean> {
    return (await this.docker.list(clusterLabels(this.config.name))).some((c) => c.Labels[LABEL.component] === 'node');
  }

  close(): void {}
}
