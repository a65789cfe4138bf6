// Rolling upgrades, the pure part: which version changes upstream's skew policy allows,
// the order nodes are touched in; and the CLI refusing before it asks the engine anything.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseClusterConfig } from '../../src/config/load.js';
import { withVersion } from '../../src/daytwo/upgrade.js';
import { UsageError } from '../../src/errors.js';
import { planCluster } from '../../src/plan/plan.js';
import { checkUpgrade, upgradeOrder } from '../../src/plan/upgrade.js';
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
    const dir = mkdtempSync(join(tmpdir(), 'k8s-img-upgrade-'));
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
