// Rolling upgrades, the pure part: which version changes upstream's skew policy allows,
// the order nodes are touched in; and the CLI refusing before it asks the engine anything.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseClusterConfig } from '../../src/config/load.js';
import { versionChange, withVersion } from '../../src/daytwo/upgrade.js';
import { UsageError } from '../../src/errors.js';
import { openCluster, openLocalCluster } from '../../src/pipeline/cluster.js';
import { planCluster } from '../../src/plan/plan.js';
import { appliedConfig, checkUpgrade, configChanges, upgradeOrder, versionDecision, type VersionSituation } from '../../src/plan/upgrade.js';
import { runInProcess } from '../helpers/cli.js';

const SUPPORTED = ['1.37.2', '1.36.3', '1.35.4'];

describe('upgrade: what is allowed', () => {
  it('one minor up, or a newer patch', () => {
    assert.doesNotThrow(() => checkUpgrade('1.36.3', '1.37.2', SUPPORTED));
    assert.doesNotThrow(() => checkUpgrade('1.35.4', '1.36.3', SUPPORTED));
    assert.doesNotThrow(() => checkUpgrade('1.37.0', '1.37.2', SUPPORTED));
  });
  it('a skip of minors is refused, naming the minor to go to first', () => {
    assert.throws(() => checkUpgrade('1.35.4', '1.37.2', SUPPORTED), (e: unknown) => e instanceof UsageError && /skips 1 minor/.test(e.message) && /skew policy/.test(e.message) && /--to 1\.36\.3/.test(e.hint ?? ''));
  });
  it('a downgrade is refused, pointing at the snapshot', () => {
    assert.throws(() => checkUpgrade('1.37.2', '1.36.3', SUPPORTED), (e: unknown) => e instanceof UsageError && /downgrade from 1\.37\.2 to 1\.36\.3 refused/.test(e.message) && /snapshot/.test(e.hint ?? ''));
  });
  it('unsupported targets, garbage and no-ops are refused', () => {
    assert.throws(() => checkUpgrade('1.36.3', '1.38.0', SUPPORTED), /not one k8s-img builds/);
    assert.throws(() => checkUpgrade('1.36.3', 'latest', SUPPORTED), /not a Kubernetes version/);
    assert.throws(() => checkUpgrade('1.37.2', '1.37.2', SUPPORTED), /runs 1\.37\.2 already/);
  });
});

describe('upgrade: the order', () => {
  const plan = (nodes: string) => planCluster(parseClusterConfig(`apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: u\nkubernetesVersion: "1.37.2"\nnodes:\n${nodes}`).config);

  it('the tutorial: snapshot, etcd, the control plane\'s services, then each node\'s whole stack', () => {
    const steps = upgradeOrder(plan(`  - { name: sm1, address: 10.1.0.1, roles: [control-plane] }\n  - { name: sw1, address: 10.1.0.2, roles: [worker, etcd] }\n  - { name: sw2, address: 10.1.0.3, roles: [worker] }\n`));
    assert.deepEqual(steps.map((s) => s.id), ['snapshot', 'etcd/sw1', 'control-plane/sm1', 'node/sm1', 'node/sw1', 'node/sw2']);
    const cp = steps[2]!;
    assert.ok(cp.kind === 'control-plane');
    // No kubelet or kube-proxy in the control-plane step: a kubelet is never newer than an API server.
    assert.deepEqual(cp.services, ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    const sm1 = steps[3]!;
    assert.ok(sm1.kind === 'nodes' && !sm1.drain); // a tainted control plane has no pods to move
    // The node step leaves the API server (done already) and etcd alone: no second restart.
    assert.ok(sm1.services.sm1!.includes('kubelet') && sm1.services.sm1!.includes('host-prep'));
    assert.ok(!sm1.services.sm1!.includes('kube-apiserver'));
    const sw1 = steps[4]!;
    assert.ok(sw1.kind === 'nodes' && !sw1.services.sw1!.includes('etcd'));
    assert.ok(steps.slice(4).every((s) => s.kind === 'nodes' && s.drain));
  });

  it('HA: every etcd member, then every control plane, one at a time, before any kubelet; workers in batches', () => {
    const p = plan(
      ['a', 'b', 'c'].map((n, i) => `  - { name: ${n}, address: 10.1.0.${i + 1}, roles: [control-plane, etcd] }\n`).join('') +
        [1, 2, 3, 4, 5].map((i) => `  - { name: w${i}, address: 10.1.0.${10 + i}, roles: [worker] }\n`).join(''),
    );
    const ids = upgradeOrder(p, 2).map((s) => s.id);
    assert.deepEqual(ids, ['snapshot', 'etcd/a', 'etcd/b', 'etcd/c', 'control-plane/a', 'control-plane/b', 'control-plane/c', 'node/a', 'node/b', 'node/c', 'node/w1,w2', 'node/w3,w4', 'node/w5']);
  });
});

describe('upgrade: the CLI', () => {
  const cluster = (version: string) => {
    const dir = scratchDir('k8s-img-upgrade-');
    const path = join(dir, 'cluster.yaml');
    writeFileSync(path, `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: it10ref\nkubernetesVersion: "${version}"\nnodes:\n  - { name: n1, address: 192.168.252.10, roles: [control-plane, etcd, worker] }\n`);
    return path;
  };
  it('a skip of two minors and a downgrade are refused (exit 64) with the reason, nothing written', async () => {
    const path = cluster('1.35.4');
    const skip = await runInProcess(['upgrade', '-c', path, '--to', '1.37.2']);
    assert.equal(skip.code, 64, skip.stderr);
    assert.match(skip.stderr, /skips 1 minor version\(s\): upstream's version skew policy/);
    const down = await runInProcess(['upgrade', '-c', cluster('1.37.2'), '--to', '1.36.3']);
    assert.equal(down.code, 64, down.stderr);
    assert.match(down.stderr, /downgrade from 1\.37\.2 to 1\.36\.3 refused/);
    assert.match(readFileSync(path, 'utf8'), /kubernetesVersion: "1\.35\.4"/);
  });
  it('--to is required; --batch must be positive', async () => {
    assert.equal((await runInProcess(['upgrade', '-c', cluster('1.36.3')])).code, 64);
    assert.equal((await runInProcess(['upgrade', '-c', cluster('1.36.3'), '--to', '1.37.2', '--batch', '0'])).code, 64);
  });
  it('cluster.yaml gets the new version, in place or added after the name', () => {
    assert.equal(withVersion('name: a\nkubernetesVersion: "1.36.3"\nnodes: []\n', '1.37.2'), 'name: a\nkubernetesVersion: "1.37.2"\nnodes: []\n');
    assert.equal(withVersion('name: a\nnodes: []\n', '1.37.2'), 'name: a\nkubernetesVersion: "1.37.2"\nnodes: []\n');
  });
});

describe('upgrade by editing kubernetesVersion: the decision (pure)', () => {
  const base: VersionSituation = { running: '1.36.3', wanted: '1.36.3', otherChanges: [], command: 'k8s-img up -c c.yaml' };
  const refusal = (s: Partial<VersionSituation>) => {
    const d = versionDecision({ ...base, ...s }, SUPPORTED);
    assert.equal(d.kind, 'refused', JSON.stringify(d));
    return d.kind === 'refused' ? d.problem : undefined!;
  };

  it('nothing runs yet, or the same version: an ordinary up/deploy', () => {
    assert.deepEqual(versionDecision({ ...base, running: undefined, wanted: '1.37.2' }, SUPPORTED), { kind: 'as-is' });
    assert.deepEqual(versionDecision(base, SUPPORTED), { kind: 'as-is' });
    assert.deepEqual(versionDecision({ ...base, otherChanges: ['networking.calico.mtu'] }, SUPPORTED), { kind: 'as-is' });
  });
  it('one minor up, or a newer patch: the rolling upgrade', () => {
    assert.deepEqual(versionDecision({ ...base, wanted: '1.37.2' }, SUPPORTED), { kind: 'upgrade', from: '1.36.3', to: '1.37.2' });
    assert.deepEqual(versionDecision({ ...base, running: '1.37.0', wanted: '1.37.2' }, SUPPORTED), { kind: 'upgrade', from: '1.37.0', to: '1.37.2' });
  });
  it('a skip and a downgrade are refused as kubernetesVersion problems, with the reason and the fix', () => {
    const skip = refusal({ running: '1.35.4', wanted: '1.37.2' });
    assert.equal(skip.path, 'kubernetesVersion');
    assert.match(skip.message, /^the cluster runs 1\.35\.4: upgrade from 1\.35\.4 to 1\.37\.2 skips 1 minor version\(s\): upstream's version skew policy/);
    assert.match(skip.hint!, /set kubernetesVersion: "1\.36\.3" first/);
    const down = refusal({ running: '1.37.2', wanted: '1.36.3' });
    assert.match(down.message, /downgrade from 1\.37\.2 to 1\.36\.3 refused: upstream supports upgrades only/);
    assert.match(down.hint!, /set kubernetesVersion back to "1\.37\.2"; to go back to 1\.36\.3, restore the etcd snapshot/);
  });
  it('an upgrade with other edits in the same run is refused, naming them and the order to do it in', () => {
    const p = refusal({ wanted: '1.37.2', otherChanges: ['networking.calico.mtu', 'nodes[3]'] });
    assert.match(p.message, /changes from 1\.36\.3 to 1\.37\.2 together with other edits \(networking\.calico\.mtu, nodes\[3\]\): an upgrade runs alone/);
    assert.match(p.hint!, /undo the other edits and run `k8s-img up -c c\.yaml` for the upgrade/);
  });
  it('an upgrade that stopped resumes with the same target; another target is refused', () => {
    const unfinished = { from: '1.36.3', to: '1.37.2' };
    assert.deepEqual(versionDecision({ ...base, wanted: '1.37.2', unfinished }, SUPPORTED), { kind: 'upgrade', from: '1.36.3', to: '1.37.2' });
    const back = refusal({ wanted: '1.36.3', unfinished });
    assert.match(back.message, /an upgrade from 1\.36\.3 to 1\.37\.2 stopped before it finished/);
    assert.match(back.hint!, /set kubernetesVersion: "1\.37\.2" and run `k8s-img up -c c\.yaml` again: it resumes/);
    assert.equal(refusal({ wanted: '1.37.2', unfinished, otherChanges: ['name'] }).path, 'kubernetesVersion');
  });
  it('what counts as another edit: anything but the version and the SSH logins', () => {
    const cfg = (extra: string) => parseClusterConfig(`apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: u\nnodes:\n  - { name: a, address: 10.1.0.1, roles: [control-plane, etcd, worker] }\n${extra}`).config;
    const before = appliedConfig(cfg('kubernetesVersion: "1.36.3"\n'));
    assert.deepEqual(configChanges(before, appliedConfig(cfg('kubernetesVersion: "1.37.2"\nssh: { user: admin }\n'))), []);
    assert.deepEqual(configChanges(before, appliedConfig(cfg('networking: { calico: { mtu: 1400 } }\netcd: { snapshots: {} }\n'))), ['etcd.snapshots', 'networking.calico.mtu']);
    assert.deepEqual(configChanges({ nodes: [1, 2] }, { nodes: [1, 2, 3] }), ['nodes']);
  });
});

describe('upgrade by editing kubernetesVersion: up, deploy and upgrade refuse before touching anything', () => {
  const NODES = '  - { name: n1, address: 192.168.252.10, roles: [control-plane, etcd, worker] }\n';
  /** A cluster.yaml and a state folder whose record says what runs (`running`, and the configuration applied then). */
  const running = (provider: 'local' | 'ssh', version: string, yaml: string, applied?: string) => {
    const dir = scratchDir('k8s-img-upgrade-');
    const path = join(dir, 'cluster.yaml');
    const text = (v: string, extra = '') => `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: it10ref\nkubernetesVersion: "${v}"\n${provider === 'ssh' ? 'ssh: { user: root }\n' : ''}nodes:\n${NODES}${extra}`;
    writeFileSync(path, text(version));
    const open = provider === 'local' ? openLocalCluster : openCluster;
    const state = open(path).state.dir;
    mkdirSync(state, { recursive: true, mode: 0o700 });
    const record = { provider, nodes: [{ name: 'n1', address: '192.168.252.10', roles: ['control-plane', 'etcd', 'worker'] }], ...(applied === undefined ? {} : { applied: { kubernetesVersion: version, config: appliedConfig(open(path).config) } }) };
    writeFileSync(join(state, 'nodes.json'), JSON.stringify(record), { mode: 0o600 });
    writeFileSync(path, text(yaml, applied ?? ''));
    return { path, state, files: () => readdirSync(state).sort() };
  };

  it('up: a downgrade and a skip, exit 2 naming kubernetesVersion; nothing written', async () => {
    const down = running('local', '1.37.2', '1.36.3', '');
    const r = await runInProcess(['up', '-c', down.path]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /kubernetesVersion: the cluster runs 1\.37\.2: downgrade from 1\.37\.2 to 1\.36\.3 refused.*\(hint: set kubernetesVersion back to "1\.37\.2"/);
    assert.deepEqual(down.files(), ['nodes.json']);
    const skip = running('local', '1.35.4', '1.37.2', '');
    const s = await runInProcess(['up', '-c', skip.path]);
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /skips 1 minor version\(s\).*set kubernetesVersion: "1\.36\.3" first/);
  });
  it('deploy and upgrade --to: the version together with other edits, exit 2, the edits named', async () => {
    const mixed = running('ssh', '1.36.3', '1.37.2', 'networking: { calico: { mtu: 1400 } }\n');
    const d = await runInProcess(['deploy', '-c', mixed.path]);
    assert.equal(d.code, 2, d.stderr);
    assert.match(d.stderr, /kubernetesVersion: changes from 1\.36\.3 to 1\.37\.2 together with other edits \(networking\.calico\.mtu\)/);
    assert.match(d.stderr, /run `k8s-img deploy -c \S+` for the upgrade/);
    const u = await runInProcess(['upgrade', '-c', mixed.path, '--to', '1.37.2']);
    assert.equal(u.code, 2, u.stderr);
    assert.match(u.stderr, /together with other edits \(networking\.calico\.mtu\)/);
    assert.deepEqual(mixed.files(), ['nodes.json']);
  });
  it('a record from before versions were recorded: the version of its last bundle, the nodes compared', () => {
    const old = running('local', '1.36.3', '1.37.2');
    mkdirSync(join(old.state, 'bundles', 'n1'), { recursive: true });
    writeFileSync(join(old.state, 'bundles', 'n1', 'compose.yaml'), 'services:\n  kubelet:\n    image: k8s-img/kubelet:v1.36.3\n');
    const cluster = openLocalCluster(old.path);
    assert.deepEqual(versionChange(cluster, '1.37.2', 'k8s-img up'), { kind: 'upgrade', from: '1.36.3', to: '1.37.2' });
    const moved = { ...cluster, config: { ...cluster.config, nodes: [{ ...cluster.config.nodes[0]!, address: '192.168.252.11' }] } };
    const d = versionChange(moved, '1.37.2', 'k8s-img up');
    assert.ok(d.kind === 'refused' && /other edits \(nodes\[0\]\.address\)/.test(d.problem.message), JSON.stringify(d));
  });
});
