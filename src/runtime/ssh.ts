// SSH sessions to real machines, with the `ssh2` package (no scp or ssh binaries).
// Host keys are checked against known_hosts before anything is sent; commands run
// through the login shell with every argument quoted; files travel as tar streams
// into `tar -x` on the machine.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import ssh2, { type AuthenticationType, type Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { HostError } from '../errors.js';
import { withFsErrors } from './fs-errors.js';
import { KnownHostsFile, fingerprint, keyTypeOf } from './known-hosts.js';
import { commandLine } from './shell.js';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** Private keys to offer, in order (an agent, when SSH_AUTH_SOCK is set, comes first). */
  identityFiles: string[];
}

export interface HostKeyPolicy {
  knownHosts: KnownHostsFile;
  /** Record keys of hosts not yet in known_hosts (ssh's StrictHostKeyChecking=accept-new). */
  acceptNew: boolean;
  /** Told about every key recorded. */
  onAccepted?: (message: string) => void;
}

export const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(homedir(), '.ssh', k));

export function describeTarget(t: SshTarget): string {
  return `${t.user}@${t.host}${t.port === 22 ? '' : `:${t.port}`}`;
}

/** Host key types ssh2 offers, ours first (rsa keys are recorded as ssh-rsa but signed with sha2). */
function hostKeyAlgorithms(known: string[]): string[] {
  const all = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  const family = (alg: string) => (alg.startsWith('rsa-sha2') ? 'ssh-rsa' : alg);
  return [...all.filter((a) => known.includes(family(a))), ...all.filter((a) => !known.includes(family(a)))];
}

export class SshSession {
  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
  ) {}

  static async connect(target: SshTarget, policy: HostKeyPolicy, timeoutMs = 15000): Promise<SshSession> {
    const client = new ssh2.Client();
    const where = describeTarget(target);
    let refusal: HostError | undefined;
    const auth: ({ type: AuthenticationType; username: string } & Record<string, unknown>)[] = [];
    if (process.env.SSH_AUTH_SOCK) auth.push({ type: 'agent', username: target.user, agent: process.env.SSH_AUTH_SOCK });
    for (const file of target.identityFiles) {
      if (!existsSync(file)) continue;
      auth.push({ type: 'publickey', username: target.user, key: withFsErrors(`cannot read the key ${file}`, () => readFileSync(file)) });
    }
    if (auth.length === 0) {
      throw new HostError(`no SSH key for ${where}: none of ${target.identityFiles.join(', ')} exists and no agent runs`, 'set ssh.identityFile in cluster.yaml, or start ssh-agent and add your key');
    }
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: timeoutMs,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      authHandler: auth as never,
      algorithms: { serverHostKey: hostKeyAlgorithms(policy.knownHosts.keyTypes(target.host, target.port)) as never },
      hostVerifier: (blob: Buffer) => {
        const verdict = policy.knownHosts.judge(target.host, target.port, blob);
        const seen = `${keyTypeOf(blob)} ${fingerprint(blob)}`;
        const file = policy.knownHosts.path;
        if (verdict.kind === 'known') return true;
        if (verdict.kind === 'unknown' && policy.acceptNew) {
          policy.knownHosts.add(target.host, target.port, blob);
          policy.onAccepted?.(`added the host key of ${target.host}${target.port === 22 ? '' : `:${target.port}`} to ${file}: ${seen}`);
          return true;
        }
        refusal =
          verdict.kind === 'unknown'
            ? new HostError(
                `the host key of ${where} is not known (${seen})`,
                `compare it with \`ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeOf(blob).replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub\` on the machine, then run again with --accept-new (or add it to ${file})`,
              )
            : verdict.kind === 'revoked'
              ? new HostError(`the host key of ${where} is revoked in ${file} (${seen})`, 'the machine must get a new host key')
              : new HostError(
                  `the host key of ${where} has CHANGED: it shows ${seen}, ${file} expects ${verdict.expected.join(' or ')}`,
                  `someone may be intercepting the connection; if the machine was reinstalled, remove the old key with \`ssh-keygen -R ${target.port === 22 ? target.host : `'[${target.host}]:${target.port}'`} -f ${file}\``,
                );
        return false;
      },
    };
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (e: Error & { level?: string }) => {
        if (refusal) return reject(refusal);
        const auth = e.level === 'client-authentication';
        reject(
          new HostError(
            `cannot connect to ${where}: ${e.message}`,
            auth
              ? `check the user and key for this node (ssh.user, ssh.identityFile) and that its public key is in ~${target.user}/.ssh/authorized_keys there`
              : 'is the machine up, is sshd running, is the address and port right?',
            { cause: e },
          ),
        );
      });
      client.connect(config);
    });
    client.on('error', () => {}); // later errors surface through the channel in use
    return new SshSession(client, target);
  }

  private channel(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => (err ? reject(new HostError(`${describeTarget(this.target)}: cannot run a command: ${err.message}`, 'is the connection still up?', { cause: err })) : resolve(stream)));
    });
  }

  /** Runs argv (quoted for the login shell) in `dir`, feeding `stdin` (a stream or a local file). */
  async exec(argv: string[], dir?: string, stdin?: NodeJS.ReadableStream | { file: string }): Promise<{ code: number; stdout: string; stderr: string }> {
    const ch = await this.channel(commandLine(argv, dir));
    let stdout = '';
    let stderr = '';
    ch.on('data', (c: Buffer) => (stdout += c.toString()));
    ch.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise<number>((resolve) => ch.on('close', (code: number | null) => resolve(code ?? -1)));
    if (stdin) {
      const input: NodeJS.ReadableStream = 'file' in stdin && typeof stdin.file === 'string' ? createReadStream(stdin.file) : (stdin as NodeJS.ReadableStream);
      await new Promise<void>((resolve, reject) => {
        input.on('error', reject);
        ch.on('close', resolve); // the command ended before reading everything
        input.on('end', resolve);
        input.pipe(ch as unknown as NodeJS.WritableStream);
      });
    } else {
      ch.end();
    }
    const code = await closed;
    return { code, stdout, stderr };
  }

  /** Unpacks a tar stream into `dir` on the machine (modes kept, owned by the login user). */
  async putTar(tar: NodeJS.ReadableStream, dir: string): Promise<void> {
    const r = await this.exec(['tar', '-x', '-p', '--no-same-owner', '-C', dir, '-f', '-'], undefined, tar);
    if (r.code !== 0) throw new HostError(`${describeTarget(this.target)}: unpacking into ${dir} failed: ${r.stderr.trim()}`, 'is the disk full or the folder not writable?');
  }

  /**
   * `path` on the machine as a tar stream, its last path element at the root (what
   * `docker cp` out gives): `tar -c` over an exec channel. A tar that fails (no such
   * file, unreadable) ends the stream with an error naming the machine and tar's message.
   */
  async getTar(path: string): Promise<NodeJS.ReadableStream> {
    const ch = await this.channel(commandLine(getTarArgv(path)));
    ch.end();
    const out = new PassThrough();
    let stderr = '';
    ch.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Both the end of the data and the exit code, before the stream ends or fails.
    let ended = false;
    let code: number | undefined;
    const finish = () => {
      if (!ended || code === undefined) return;
      if (code === 0) out.end();
      else out.destroy(new HostError(`${describeTarget(this.target)}: reading ${path} failed (tar exit ${code}): ${stderr.trim()}`, 'does the file exist there, and can the login user read it?'));
    };
    ch.on('end', () => {
      ended = true;
      finish();
    });
    ch.on('close', (c: number | null) => {
      code = c ?? -1; // 'end' still follows once the buffered data is read
      finish();
    });
    ch.on('error', (e: Error) => out.destroy(e));
    ch.pipe(out, { end: false });
    return out;
  }

  /** A TCP connection from the machine to host:port on its side (ssh -L). */
  forward(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream as unknown as Duplex)));
    });
  }

  close(): void {
    this.client.end();
  }
}

/** The tar that reads `path` on a machine: its folder as -C, its name as the only member. */
export function getTarArgv(path: string): string[] {
  const clean = posix.normalize(path).replace(/\/+$/, '');
  return ['tar', '-c', '-f', '-', '-C', posix.dirname(clean) || '/', '--', posix.basename(clean)];
}
