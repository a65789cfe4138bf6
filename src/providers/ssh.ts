// Real machines, reached over SSH: the node's own Docker engine and Compose, driven
// with the same commands a user would type there. One session per node, reused by
// every step.
import { join } from 'node:path';
import { sshSettings, type ResolvedConfig } from '../config/defaults.js';
import { ConfigError, HostError, type Problem } from '../errors.js';
import { NODE_BUNDLE } from '../plan/names.js';
import { expandHome, lookupSshConfig, readUserSshConfig } from '../runtime/ssh-config.js';
import { DEFAULT_KEYS, SshSession, describeTarget, type HostKeyPolicy, type SshTarget } from '../runtime/ssh.js';
import type { NodeHost, NodeProvider } from './types.js';

/**
 * Each node's SSH target: its `ssh` block over the top-level one, then ~/.ssh/config
 * for the node's address, then root, port 22 and the usual key files.
 */
export function sshTargets(config: ResolvedConfig, blocks = readUserSshConfig()): Map<string, SshTarget> {
  const problems: Problem[] = [];
  const out = new Map<string, SshTarget>();
  config.nodes.forEach((node, i) => {
    const s = sshSettings(config, node);
    if (!s) {
      problems.push({ path: `nodes[${i}]`, severity: 'error', message: `node ${node.name} has no ssh settings: deploy cannot reach it`, hint: 'add `ssh: { user: root }` at the top of the file (all nodes) or to this node' });
      return;
    }
    const hit = lookupSshConfig(blocks, node.address);
    out.set(node.name, {
      host: hit.hostName ?? node.address,
      port: s.port ?? hit.port ?? 22,
      user: s.user ?? hit.user ?? 'root',
      identityFiles: s.identityFile ? [expandHome(s.identityFile)] : hit.identityFiles.length > 0 ? hit.identityFiles : DEFAULT_KEYS,
    });
  });
  if (problems.length > 0) throw new ConfigError(problems, 'cluster.yaml');
  return out;
}

interface SshNodeHost extends NodeHost {
  session: SshSession;
}

export class SshProvider implements NodeProvider {
  readonly kind = 'ssh';
  private readonly sessions = new Map<string, Promise<SshNodeHost>>();

  constructor(
    private readonly targets: Map<string, SshTarget>,
    private readonly policy: HostKeyPolicy,
  ) {}

  sshTarget(node: string): SshTarget {
    const t = this.targets.get(node);
    if (!t) throw new Error(`SshProvider: no target for node ${node}`); // a programming error
    return t;
  }

  /** Machines exist already; connecting checks they answer (and their host keys). */
  async provision(nodes: { name: string }[]): Promise<void> {
    await Promise.all(nodes.map((n) => this.connect(n.name)));
  }

  connect(node: string): Promise<SshNodeHost> {
    let s = this.sessions.get(node);
    if (!s) {
      s = this.open(node);
      this.sessions.set(node, s);
      s.catch(() => this.sessions.delete(node));
    }
    return s;
  }

  private async open(node: string): Promise<SshNodeHost> {
    const target = this.sshTarget(node);
    const session = await SshSession.connect(target, this.policy);
    // Root keeps the bundle where the README puts it; a docker-group user in its home.
    const who = await session.exec(['sh', '-c', 'id -u; printf "%s\\n" "$HOME"']);
    const [uid, home] = who.stdout.trim().split('\n');
    if (who.code !== 0 || uid === undefined) {
      session.close();
      throw new HostError(`${describeTarget(target)}: cannot run commands (${who.stderr.trim()})`, 'the login shell must be a POSIX shell');
    }
    const bundleDir = uid === '0' || !home ? NODE_BUNDLE : join(home, '.k8s-img', 'bundle');
    return {
      node,
      where: describeTarget(target),
      bundleDir,
      exec: (argv, dir, stdinFile) => session.exec(argv, dir, stdinFile ? { file: stdinFile } : undefined),
      putTar: (stream, dir) => session.putTar(stream, dir),
      getTar: (path) => session.getTar(path),
      close: () => {},
      session,
    };
  }

  /** The SSH session of a connected node (port forwarding for benchmarks and tests). */
  async session(node: string): Promise<SshSession> {
    return (await this.connect(node)).session;
  }

  async release(): Promise<void> {}

  close(): void {
    for (const s of this.sessions.values()) s.then((h) => h.session.close(), () => {});
    this.sessions.clear();
  }
}
