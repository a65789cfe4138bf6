// The user's kubeconfig: the cluster's context merged in and taken out again, the rest
// of the file (other contexts, comments, mode) kept, written atomically under kubectl's lock.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { HostError } from '../../src/errors.js';
import { editKubeconfig, userKubeconfigPath } from '../../src/runtime/kubeconfig-file.js';
import { mergeKubeconfig, removeFromKubeconfig, serverOf } from '../../src/runtime/kubeconfig-merge.js';

const tmp = () => scratchDir('k8s-img-kubeconfig-');

const THEIRS = `# my clusters
apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster: { server: https://prod.example:6443 }
users:
  - name: me
    user: { token: abc }
contexts:
  - name: prod
    context: { cluster: prod, user: me, namespace: web }
current-context: prod
preferences: {}
`;
const OURS = { name: 'k8s-img-demo', cluster: { server: 'https://192.168.245.10:6443', 'certificate-authority-data': 'Q0E=' }, user: { 'client-certificate-data': 'Y3J0', 'client-key-data': 'a2V5' } };

type Kc = { clusters: { name: string; cluster: { server: string } }[]; users: { name: string }[]; contexts: { name: string; context: Record<string, string> }[]; 'current-context': string; preferences?: unknown };

describe('kubeconfig merge', () => {
  it('merging keeps the other contexts, comments and keys, and makes ours current', () => {
    const out = mergeKubeconfig(THEIRS, OURS);
    const kc = YAML.parse(out) as Kc;
    assert.deepEqual(kc.contexts.map((c) => c.name), ['prod', 'k8s-img-demo']);
    assert.deepEqual(kc.contexts[0]!.context, { cluster: 'prod', user: 'me', namespace: 'web' });
    assert.deepEqual(kc.contexts[1]!.context, { cluster: 'k8s-img-demo', user: 'k8s-img-demo' });
    assert.deepEqual(kc.users.map((u) => u.name), ['me', 'k8s-img-demo']);
    assert.equal(kc['current-context'], 'k8s-img-demo');
    assert.deepEqual(kc.preferences, {});
    assert.match(out, /^# my clusters/);
  });

  it('merging again replaces our entries in place (no duplicates); an empty file becomes a whole kubeconfig', () => {
    const once = mergeKubeconfig(THEIRS, OURS);
    const twice = mergeKubeconfig(once, { ...OURS, cluster: { server: 'https://192.168.245.11:6443' } });
    const kc = YAML.parse(twice) as Kc;
    assert.equal(kc.clusters.filter((c) => c.name === 'k8s-img-demo').length, 1);
    assert.equal(serverOf(twice, 'k8s-img-demo'), 'https://192.168.245.11:6443');
    const fresh = YAML.parse(mergeKubeconfig('', OURS)) as Kc & { apiVersion: string; kind: string };
    assert.equal(fresh.apiVersion, 'v1');
    assert.equal(fresh.kind, 'Config');
    assert.equal(fresh['current-context'], 'k8s-img-demo');
  });

  it('removal takes out exactly our entries; the file is back to what it was (bar current-context)', () => {
    const removed = removeFromKubeconfig(mergeKubeconfig(THEIRS, OURS), 'k8s-img-demo')!;
    assert.equal(removed, THEIRS.replace('current-context: prod', 'current-context: ""'));
    assert.equal(removeFromKubeconfig(THEIRS, 'k8s-img-demo'), undefined, 'nothing of ours: nothing to write');
  });

  it('a file that is not a kubeconfig is refused (HostError naming the file), not overwritten', () => {
    assert.throws(() => mergeKubeconfig('clusters: {a: 1}\n', OURS, '/x/config'), (e: Error) => e instanceof HostError && /\/x\/config.*clusters is not a list/.test(e.message));
    assert.throws(() => mergeKubeconfig('a: [\n', OURS, '/x/config'), HostError);
  });

  it("the file: $KUBECONFIG's first entry, else ~/.kube/config", () => {
    assert.equal(userKubeconfigPath({ KUBECONFIG: ':/a/one:/b/two', HOME: '/h' }), '/a/one');
    assert.equal(userKubeconfigPath({ HOME: '/h' }), '/h/.kube/config');
  });
});

describe('kubeconfig file edits', () => {
  it('written atomically: a new inode renamed over it, mode kept, no temporary or lock file left', async () => {
    const dir = tmp();
    const file = join(dir, 'config');
    writeFileSync(file, THEIRS, { mode: 0o640 });
    const inode = statSync(file).ino;
    assert.equal(await editKubeconfig(file, (t) => mergeKubeconfig(t, OURS)), true);
    assert.notEqual(statSync(file).ino, inode, 'replaced by rename, never rewritten in place');
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), ['config']);
    assert.equal((YAML.parse(readFileSync(file, 'utf8')) as Kc).contexts.length, 2);
  });

  it('a new file is 0600 in a new 0700 folder; an edit that changes nothing does not write', async () => {
    const dir = join(tmp(), '.kube');
    const file = join(dir, 'config');
    await editKubeconfig(file, (t) => mergeKubeconfig(t, OURS));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const mtime = statSync(file).mtimeMs;
    assert.equal(await editKubeconfig(file, (t) => t), false);
    assert.equal(statSync(file).mtimeMs, mtime);
  });

  it('a failing edit leaves the file as it was', async () => {
    const file = join(tmp(), 'config');
    writeFileSync(file, 'clusters: 3\n');
    await assert.rejects(editKubeconfig(file, (t) => mergeKubeconfig(t, OURS, file)), HostError);
    assert.equal(readFileSync(file, 'utf8'), 'clusters: 3\n');
  });

  it("waits for kubectl's lock file and gives up with a hint", async () => {
    const file = join(tmp(), 'config');
    writeFileSync(file, THEIRS);
    writeFileSync(`${file}.lock`, '');
    await assert.rejects(editKubeconfig(file, (t) => mergeKubeconfig(t, OURS), 300), (e: Error) => e instanceof HostError && /another program is editing/.test(e.message));
    assert.equal(readFileSync(file, 'utf8'), THEIRS);
    assert.ok(existsSync(`${file}.lock`), "someone else's lock stays");
  });

  it('a link stays a link: its target is edited', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'real'), THEIRS);
    symlinkSync(join(dir, 'real'), join(dir, 'config'));
    await editKubeconfig(join(dir, 'config'), (t) => mergeKubeconfig(t, OURS));
    assert.ok(lstatSync(join(dir, 'config')).isSymbolicLink());
    assert.match(readFileSync(join(dir, 'real'), 'utf8'), /k8s-img-demo/);
  });
});
