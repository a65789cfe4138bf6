// known_hosts and ~/.ssh/config as OpenSSH reads them, and how each node's SSH target
// is put together from cluster.yaml, ~/.ssh/config and the defaults.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { parseClusterConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { sshTargets } from '../../src/providers/ssh.js';
import { KnownHostsFile, fingerprint, hostToken, judgeHostKey, keyTypeOf, knownKeyTypes, parseKnownHosts } from '../../src/runtime/known-hosts.js';
import { lookupSshConfig, parseSshConfig } from '../../src/runtime/ssh-config.js';
import { commandLine, shellQuote } from '../../src/runtime/shell.js';

/** A host key blob as a server sends it, and its known_hosts fields. */
function hostKey(): { blob: Buffer; line: string } {
  const pub = ssh2.utils.generateKeyPairSync('ed25519').public; // "ssh-ed25519 AAAA..."
  const [, b64] = pub.split(' ');
  return { blob: Buffer.from(b64!, 'base64'), line: pub.trim() };
}

describe('known_hosts', () => {
  const a = hostKey();
  const b = hostKey();

  it('a plain entry names its host; another key for it is a changed key', () => {
    const entries = parseKnownHosts(`# comment\n10.0.0.5,node1 ${a.line}\n`);
    assert.deepEqual(judgeHostKey(entries, '10.0.0.5', a.blob), { kind: 'known' });
    assert.deepEqual(judgeHostKey(entries, 'node1', a.blob), { kind: 'known' });
    const changed = judgeHostKey(entries, '10.0.0.5', b.blob);
    assert.equal(changed.kind, 'changed');
    assert.deepEqual(changed.kind === 'changed' && changed.expected, [`ssh-ed25519 ${fingerprint(a.blob)}`]);
    assert.deepEqual(judgeHostKey(entries, '10.0.0.6', a.blob), { kind: 'unknown' });
  });

  it('hashed names (ssh-keygen -H) and other ports as [host]:port', () => {
    const salt = randomBytes(20);
    const token = hostToken('10.0.0.5', 2222);
    assert.equal(token, '[10.0.0.5]:2222');
    const hash = createHmac('sha1', salt).update(token).digest('base64');
    const entries = parseKnownHosts(`|1|${salt.toString('base64')}|${hash} ${a.line}\n`);
    assert.deepEqual(judgeHostKey(entries, token, a.blob), { kind: 'known' });
    assert.deepEqual(judgeHostKey(entries, '10.0.0.5', a.blob), { kind: 'unknown' }, 'port 22 is another name');
  });

  it('patterns with * and ?, negation, @revoked and @cert-authority', () => {
    const entries = parseKnownHosts(`10.0.0.*,!10.0.0.9 ${a.line}\n@revoked 10.0.1.? ${b.line}\n@cert-authority * ${b.line}\n`);
    assert.deepEqual(judgeHostKey(entries, '10.0.0.42', a.blob), { kind: 'known' });
    assert.deepEqual(judgeHostKey(entries, '10.0.0.9', a.blob), { kind: 'unknown' });
    assert.deepEqual(judgeHostKey(entries, '10.0.1.7', b.blob), { kind: 'revoked' });
    assert.deepEqual(knownKeyTypes(entries, '10.0.0.42'), ['ssh-ed25519']);
    assert.equal(keyTypeOf(a.blob), 'ssh-ed25519');
  });

  it('an accepted key is appended as a plain line, after a last line without its newline', () => {
    const file = join(scratchDir('k8s-img-kh-'), 'known_hosts');
    writeFileSync(file, `other ${b.line}`);
    const kh = new KnownHostsFile(file);
    assert.equal(kh.judge('10.0.0.5', 22, a.blob).kind, 'unknown');
    kh.add('10.0.0.5', 22, a.blob);
    assert.equal(kh.judge('10.0.0.5', 22, a.blob).kind, 'known');
    assert.equal(readFileSync(file, 'utf8'), `other ${b.line}\n10.0.0.5 ${a.line}\n`);
    assert.equal(new KnownHostsFile(file).judge('10.0.0.5', 22, a.blob).kind, 'known', 'ssh reads it back');
  });
});

describe('~/.ssh/config', () => {
  const blocks = parseSshConfig(
    ['User fallback', 'Host 10.0.0.* !10.0.0.9', '  HostName %h.example', '  Port 2222', '  IdentityFile ~/.ssh/lab', 'Host *', '  User admin', '  IdentityFile ~/.ssh/id_other', 'Match host x', '  User never'].join('\n'),
  );

  it('first value wins, IdentityFile accumulates, ~ and %h expand, Match is not followed', () => {
    assert.deepEqual(lookupSshConfig(blocks, '10.0.0.5', '/home/me'), { hostName: '10.0.0.5.example', user: 'fallback', port: 2222, identityFiles: ['/home/me/.ssh/lab', '/home/me/.ssh/id_other'] });
    assert.deepEqual(lookupSshConfig(blocks, '10.0.0.9', '/home/me'), { user: 'fallback', identityFiles: ['/home/me/.ssh/id_other'] });
  });

  it('a node takes its own ssh block, then the top-level one, then ~/.ssh/config, then root and port 22', () => {
    const { config } = parseClusterConfig(`apiVersion: k8s-img/v1alpha1
kind: Cluster
name: demo
ssh: { user: ops, identityFile: /keys/ops }
nodes:
  - { name: a, address: 10.0.0.5, roles: [control-plane, etcd, worker] }
  - { name: b, address: 10.0.1.6, roles: [worker], ssh: { user: root, port: 2200 } }
`);
    const t = sshTargets(config, parseSshConfig('Host 10.0.0.5\n  HostName jump.example\n  Port 2222\n  User ignored\n'));
    assert.deepEqual(t.get('a'), { host: 'jump.example', port: 2222, user: 'ops', identityFiles: ['/keys/ops'] });
    assert.deepEqual(t.get('b'), { host: '10.0.1.6', port: 2200, user: 'root', identityFiles: ['/keys/ops'] });
  });

  it('deploy refuses nodes it has no ssh settings for, naming them', () => {
    const { config } = parseClusterConfig('apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: demo\nnodes:\n  - { name: a, address: 10.0.0.5, roles: [control-plane, etcd, worker] }\n');
    assert.throws(() => sshTargets(config, []), (e: unknown) => e instanceof ConfigError && e.problems[0]!.path === 'nodes[0]' && /node a has no ssh settings/.test(e.problems[0]!.message));
  });
});

describe('commands over SSH', () => {
  it('every argument reaches the remote shell as one word', () => {
    assert.equal(shellQuote('plain-word_1.2/x:y=z'), 'plain-word_1.2/x:y=z');
    assert.equal(shellQuote("it's; rm -rf /"), `'it'\\''s; rm -rf /'`);
    assert.equal(shellQuote(''), "''");
    assert.equal(commandLine(['printf', '%s', 'a b'], '/opt/my dir'), "cd '/opt/my dir' && printf %s 'a b'");
  });
});
