// SshSession.getTar (issue 10: day-two copies etcd snapshots off machines over SSH)
// against an in-process ssh2 server that runs each exec with the local sh: a file
// comes back whole as the tar's one member, a missing one fails naming the machine.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { readSingleFile } from '../../src/daytwo/etcd-node.js';
import { KnownHostsFile } from '../../src/runtime/known-hosts.js';
import { SshSession, getTarArgv } from '../../src/runtime/ssh.js';
import { ed25519Pair } from '../helpers/ssh-keys.js';

describe('getTarArgv', () => {
  it('tars the last path element from its folder', () => {
    assert.deepEqual(getTarArgv('/var/lib/k8s-img/etcd-work/save-1/snapshot.db'), ['tar', '-c', '-f', '-', '-C', '/var/lib/k8s-img/etcd-work/save-1', '--', 'snapshot.db']);
    assert.deepEqual(getTarArgv('/var/lib/etcd/'), ['tar', '-c', '-f', '-', '-C', '/var/lib', '--', 'etcd']);
  });
});

describe('SshSession.getTar over a real SSH channel', () => {
  const dir = scratchDir('k8s-img-gettar-');
  let server: ssh2.Server;
  let session: SshSession;

  before(async () => {
    const host = ed25519Pair();
    const login = ed25519Pair();
    writeFileSync(join(dir, 'id'), login.private, { mode: 0o600 });
    server = new ssh2.Server({ hostKeys: [host.private] }, (client) => {
      client.on('authentication', (ctx) => ctx.accept());
      client.on('ready', () => {
        client.on('session', (accept) => {
          accept().on('exec', (acceptExec, _reject, info) => {
            const ch = acceptExec();
            const p = spawn('sh', ['-c', info.command], { stdio: ['pipe', 'pipe', 'pipe'] });
            p.stdout.pipe(ch, { end: false });
            p.stderr.pipe(ch.stderr, { end: false });
            ch.on('data', () => {});
            p.on('close', (code) => {
              ch.exit(code ?? 1);
              ch.end();
            });
          });
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    session = await SshSession.connect({ host: '127.0.0.1', port, user: 'root', identityFiles: [join(dir, 'id')] }, { knownHosts: new KnownHostsFile(join(dir, 'known_hosts')), acceptNew: true });
  });

  after(() => {
    session?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 3 MiB file comes back byte for byte', async () => {
    const content = randomBytes(3 * 1024 * 1024);
    writeFileSync(join(dir, 'snapshot.db'), content);
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    });
    await readSingleFile(await session.getTar(join(dir, 'snapshot.db')), 'snapshot.db', sink);
    assert.ok(Buffer.concat(chunks).equals(content));
  });

  it('a missing file fails with tar\'s message and the machine', async () => {
    const stream = await session.getTar(join(dir, 'absent.db'));
    await assert.rejects(readSingleFile(stream, 'absent.db', new Writable({ write: (_c, _e, cb) => cb() })), /root@127\.0\.0\.1:\d+: reading \S+absent\.db failed \(tar exit 2\): .*absent\.db/);
  });
});
