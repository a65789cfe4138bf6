// Test machines for `k8s-img deploy`: node containers that run Debian's openssh-server
// besides their own Docker engine, with host and login keys made by the test. deploy
// reaches them over SSH only; the test itself may look inside with `docker exec`.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import type { ResolvedConfig } from '../../src/config/defaults.js';
import { assembleContext } from '../../src/pipeline/build.js';
import { ensureRootfsImage } from '../../src/pipeline/rootfs.js';
import { silentReporter } from '../../src/pipeline/progress.js';
import { ROOTFS } from '../../src/plan/bases.js';
import { LABEL, TEST_LABEL, clusterLabels } from '../../src/plan/names.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig } from '../../src/runtime/kube.js';
import { PACKAGE_ROOT, cacheDir } from '../../src/runtime/paths.js';
import { runInProcess } from '../helpers/cli.js';
import { IT_IMAGES } from './harness.js';
import { scratchDir } from '../helpers/scratch.js';
import { ed25519Pair } from '../helpers/ssh-keys.js';

const SSH_ROOTFS = { id: 'ssh-node', suite: ROOTFS.node.suite, packages: [...ROOTFS.node.packages, 'openssh-server'], purpose: 'a test machine: Debian with Docker, Compose v2 and sshd' };

export interface SshMachines {
  /** The private key deploy logs in with (cluster.yaml's ssh.identityFile). */
  identityFile: string;
  /** Each machine's host public key line (`ssh-ed25519 AAAA...`), for known_hosts. */
  hostKeys: Map<string, string>;
  dir: string;
}

/** The test machine image: the node root filesystem plus openssh-server, our entrypoint. */
export async function sshNodeImage(config: ResolvedConfig, docker: DockerEngine): Promise<string> {
  const workDir = join(cacheDir(), 'work');
  const base = await ensureRootfsImage(SSH_ROOTFS, assembleContext({ config, docker, reporter: silentReporter, workDir }));
  const ref = `${config.images.prefix}/ssh-node:test`;
  const ctx = join(workDir, 'images', 'ssh-node');
  rmSync(ctx, { recursive: true, force: true });
  mkdirSync(join(ctx, 'rootfs', 'usr', 'local', 'bin'), { recursive: true });
  for (const [from, name] of [[join(PACKAGE_ROOT, 'images', 'node', 'k8s-img-node'), 'k8s-img-node'], [join(PACKAGE_ROOT, 'test', 'fixtures', 'ssh-node', 'k8s-img-ssh-node'), 'k8s-img-ssh-node']] as const) {
    copyFileSync(from, join(ctx, 'rootfs', 'usr', 'local', 'bin', name));
    chmodSync(join(ctx, 'rootfs', 'usr', 'local', 'bin', name), 0o755);
  }
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY rootfs/ /\nVOLUME ["/var"]\nENTRYPOINT ["/usr/local/bin/k8s-img-ssh-node"]\n`);
  await docker.build(ctx, ['Dockerfile', 'rootfs'], ref, { [LABEL.managed]: 'true', [LABEL.component]: 'ssh-node' });
  return ref;
}

/** A login key pair for deploy, written where cluster.yaml points. */
export function loginKey(): SshMachines {
  const dir = scratchDir('k8s-img-ssh-');
  const pair = ed25519Pair();
  const identityFile = join(dir, 'id_ed25519');
  writeFileSync(identityFile, pair.private, { mode: 0o600 });
  writeFileSync(`${identityFile}.pub`, `${pair.public}\n`);
  return { identityFile, hostKeys: new Map(), dir };
}

function keyTar(files: { name: string; content: string; mode: number }[]): NodeJS.ReadableStream {
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name, mode: f.mode }, f.content);
  pack.finalize();
  return pack as unknown as NodeJS.ReadableStream;
}

/**
 * Starts one test machine per node on the cluster's own network (labelled with the
 * test label naming the cluster, so only this suite's cleanup removes them).
 */
export async function startMachines(docker: DockerEngine, image: string, cluster: string, subnet: string, nodes: { name: string; address: string }[], keys: SshMachines, nameservers: string[]): Promise<void> {
  const labels = { ...clusterLabels(cluster), [TEST_LABEL]: cluster };
  const network = `k8s-img-${cluster}`;
  if (!(await docker.networkExists(network))) await docker.createNetwork(network, subnet, labels);
  const pub = readFileSync(`${keys.identityFile}.pub`, 'utf8');
  for (const n of nodes) {
    const name = machineName(cluster, n.name);
    const host = ed25519Pair();
    keys.hostKeys.set(n.name, host.public);
    await docker.createVolume(`${name}-var`, { ...labels, [LABEL.node]: n.name });
    const c = await docker.api.createContainer({
      name,
      Hostname: n.name,
      Image: image,
      Env: [`K8S_IMG_NAMESERVERS=${nameservers.join(' ')}`],
      Labels: { ...labels, [LABEL.node]: n.name, [LABEL.component]: 'ssh-node' },
      HostConfig: {
        Privileged: true,
        CgroupnsMode: 'private',
        Tmpfs: { '/run': 'rw,nosuid,nodev,exec,size=512m', '/tmp': 'rw,nosuid,nodev,exec,size=512m' },
        Binds: ['/lib/modules:/lib/modules:ro', `${name}-var:/var`],
        NetworkMode: network,
        RestartPolicy: { Name: 'unless-stopped' },
        SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      },
      NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: n.address } } } },
    } as never);
    await docker.putArchive(name, keyTar([
      { name: 'etc/ssh/ssh_host_ed25519_key', content: host.private, mode: 0o600 },
      { name: 'etc/ssh/ssh_host_ed25519_key.pub', content: `${host.public}\n`, mode: 0o644 },
      { name: 'root/.ssh/authorized_keys', content: pub, mode: 0o600 },
    ]), '/');
    await c.start();
  }
}

export function machineName(cluster: string, node: string): string {
  return `k8s-img-${cluster}-${node}`;
}

/** A known_hosts line for each machine (what a careful user would collect). */
export function knownHostsText(keys: SshMachines, nodes: { name: string; address: string }[]): string {
  return nodes.map((n) => `${n.address} ${keys.hostKeys.get(n.name)}\n`).join('');
}

/** What each service container of a machine is: its ID and start time (recreated or restarted = changed). */
export async function stackState(docker: DockerEngine, machine: string): Promise<Record<string, string>> {
  const r = await docker.exec(machine, ['sh', '-c', 'docker ps -aq --filter label=io.k8s-img.component | xargs -r docker inspect --format "{{.Name}} {{.Id}} {{.State.StartedAt}}"']);
  return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => { const [name, ...rest] = l.split(' '); return [name!, rest.join(' ')]; }));
}

/** A cluster.yaml of SSH machines written into the keys' folder, and its own known_hosts. */
export interface TestCluster {
  name: string;
  net: string;
  dir: string;
  file: string;
  knownHosts: string;
  nodes: { name: string; address: string; roles: string }[];
}

export function testCluster(keys: SshMachines, name: string, net: string, nodes: TestCluster['nodes']): TestCluster {
  const c = { name, net, dir: keys.dir, file: join(keys.dir, `${name}.yaml`), knownHosts: join(keys.dir, `${name}.known_hosts`), nodes };
  writeConfig(keys, c, nodes);
  return c;
}

export function writeConfig(keys: SshMachines, c: TestCluster, nodes: TestCluster['nodes']): void {
  writeFileSync(
    c.file,
    `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: ${c.name}\nssh: { user: root, identityFile: ${keys.identityFile} }\nnodes:\n${nodes.map((n) => `  - { name: ${n.name}, address: ${n.address}, roles: [${n.roles}] }\n`).join('')}images: { prefix: ${IT_IMAGES} }\n`,
  );
}

/** The CLI in this process, with the cluster's file (and its known_hosts for commands that go over SSH). */
export const k8s = (c: TestCluster, ...args: string[]) => runInProcess([...args, '-c', c.file, ...(args[0] === 'verify' ? [] : ['--known-hosts', c.knownHosts])]);
export const inMachine = (docker: DockerEngine, c: TestCluster, node: string, cmd: string) => docker.exec(machineName(c.name, node), ['sh', '-c', cmd]);
export const show = (r: { code: number; stdout: string; stderr: string }) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

export function kube(c: TestCluster): KubeClient {
  return new KubeClient(credentialsFromKubeconfig(join(c.dir, '.k8s-img', c.name, 'kubeconfig')));
}
