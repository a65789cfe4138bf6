// etcd snapshots: the one-shots' argv (pure, from the plan) and the snapshot folder in
// the state folder (checksums, names, identity) — no engine needed.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { durationSeconds } from '../../src/config/duration.js';
import { parseClusterConfig } from '../../src/config/load.js';
import { checkIdentity } from '../../src/daytwo/snapshot-restore.js';
import { defaultSnapshotName } from '../../src/daytwo/snapshot-save.js';
import { ClusterError, UsageError } from '../../src/errors.js';
import { BUMP_REVISION, dataDirs, etcdctlArgs, fetchedName, initialCluster, oneShot, parsePeriodicRef, periodicName, restoreArgs, rollbackText, swapInCommands } from '../../src/plan/etcd-ops.js';
import { planCluster } from '../../src/plan/plan.js';
import { SnapshotStore, clusterIdentity, validSnapshotName, type SnapshotManifest } from '../../src/runtime/snapshots.js';
import { StateDir } from '../../src/runtime/state.js';
import { trackedTemps } from '../../src/runtime/temp-cleanup.js';

const three = (mode: string) =>
  planCluster(
    parseClusterConfig(`apiVersion: k8s-img/v1alpha1
kind: Cluster
name: trio
nodes:
  - { name: e1, address: 10.9.0.11, roles: [control-plane, etcd] }
  - { name: e2, address: 10.9.0.12, roles: [control-plane, etcd] }
  - { name: e3, address: 10.9.0.13, roles: [etcd, worker] }
security: { mode: ${mode} }
`).config,
  );

describe('etcd one-shots', () => {
  it('restore: every member with the full initial cluster, the service\'s token, revisions bumped and compacted', () => {
    const plan = three('secure');
    assert.equal(initialCluster(plan), 'e1=https://10.9.0.11:2380,e2=https://10.9.0.12:2380,e3=https://10.9.0.13:2380');
    const a = restoreArgs(plan, plan.etcd.members[1]!);
    assert.deepEqual(a.slice(0, 3), ['snapshot', 'restore', '/work/snapshot.db']);
    assert.ok(a.includes('--name=e2'));
    assert.ok(a.includes(`--initial-cluster=${initialCluster(plan)}`));
    assert.ok(a.includes('--initial-cluster-token=trio-etcd'));
    assert.ok(a.includes('--initial-advertise-peer-urls=https://10.9.0.12:2380'));
    assert.ok(a.includes(`--bump-revision=${BUMP_REVISION}`) && a.includes('--mark-compacted'));
    // The same token the etcd service runs with.
    const etcd = plan.nodes.find((n) => n.name === 'e2')!.services.find((s) => s.name === 'etcd')!;
    assert.ok(etcd.command.includes('--initial-cluster-token=trio-etcd'));
    assert.ok(etcd.command.includes(`--initial-cluster=${initialCluster(plan)}`));
  });

  it('secure mode presents the client certificate; simple mode speaks http without one', () => {
    const s = etcdctlArgs(three('secure'), { address: '10.9.0.11' }, ['endpoint', 'status']);
    assert.ok(s.includes('--endpoints=https://10.9.0.11:2379'));
    assert.ok(s.includes('--cert=/work/apiserver-etcd-client.crt') && s.includes('--cacert=/work/etcd-ca.crt'));
    const p = etcdctlArgs(three('simple'), { address: '10.9.0.11' }, ['endpoint', 'status']);
    assert.ok(p.includes('--endpoints=http://10.9.0.11:2379'));
    assert.ok(!p.some((x) => x.startsWith('--cert')));
  });

  it('the one-shot is the etcd image of the plan, on the host network, labelled', () => {
    const plan = three('secure');
    const argv = oneShot(plan, '/var/lib/k8s-img/etcd-work/x', 'etcdutl', ['version']);
    assert.deepEqual(argv.slice(0, 3), ['docker', 'run', '--rm']);
    assert.ok(argv.includes(plan.images.etcd));
    assert.ok(argv.includes('io.k8s-img.managed=true') && argv.includes('io.k8s-img.cluster=trio'));
    assert.ok(argv.includes('/usr/local/bin/etcdutl'));
    assert.deepEqual(argv.slice(-1), ['version']);
  });

  it('the swap moves the old data aside (never deletes) and the rollback text names it', () => {
    const cmds = swapInCommands('restore-1');
    assert.deepEqual(cmds[0], ['mv', '/var/lib/etcd', '/var/lib/etcd.before-restore-1']);
    assert.ok(!cmds.some((c) => c[0] === 'rm'));
    assert.equal(dataDirs('restore-1').aside, '/var/lib/etcd.before-restore-1');
    assert.match(rollbackText(three('secure'), 'restore-1', '/opt/k8s-img/bundle'), /mv \/var\/lib\/etcd\.before-restore-1 \/var\/lib\/etcd/);
  });
});

describe('snapshot folder', () => {
  const setup = () => {
    const dir = scratchDir('k8s-img-snap-');
    const state = new StateDir(join(dir, 'state'));
    state.write('ca.crt', '-----CA-----\n');
    state.write('encryption.key', 'a2V5');
    const cfg = join(dir, 'cluster.yaml');
    writeFileSync(cfg, 'name: trio\n');
    return { state, store: new SnapshotStore(state) };
  };
  const manifest = (name: string, sha256: string, size: number, identity: string): SnapshotManifest => ({
    name, cluster: 'trio', identity, createdAt: '2026-11-27T00:00:00.000Z', kubernetesVersion: '1.37.2', etcdVersion: '3.7.3', member: 'e1', sha256, size,
    etcd: { revision: 1, totalKey: 1, hash: 1, clusterId: 'abc' }, keys: [],
  });

  it('a committed snapshot: 0600 files, its keys, listed; a changed byte is refused as corrupted', async () => {
    const { state, store } = setup();
    const out = store.begin('one');
    writeFileSync(join(out.dir, 'snapshot.db'), 'etcd-bytes', { mode: 0o600 });
    const id = clusterIdentity('trio', state);
    out.commit(manifest('one', 'a1b0cbca4a2e2f2a7c6d9d0c4d2c3c9f6c1c5b0d8fe2d0b6d0f50d8f0b1e0c5a', 10, id), 'name: trio\n');
    assert.deepEqual(store.list().map((m) => m.name), ['one']);
    for (const f of ['manifest.json', 'snapshot.db.sha256', 'cluster.yaml', 'keys/ca.crt', 'keys/encryption.key']) {
      assert.equal(statSync(join(store.path('one'), f)).mode & 0o777, 0o600, f);
    }
    assert.deepEqual(store.manifest('one').keys, ['ca.crt', 'encryption.key']);
    await assert.rejects(store.verified('one'), (e: unknown) => e instanceof ClusterError && /corrupted/.test(e.message) && /nothing was changed/.test(e.hint ?? ''));
    assert.deepEqual(trackedTemps(), []);
  });

  it('a matching checksum passes', async () => {
    const { state, store } = setup();
    const out = store.begin('two');
    writeFileSync(join(out.dir, 'snapshot.db'), 'etcd-bytes');
    // sha256("etcd-bytes")
    const sum = (await import('node:crypto')).createHash('sha256').update('etcd-bytes').digest('hex');
    out.commit(manifest('two', sum, 10, clusterIdentity('trio', state)), '');
    const v = await store.verified('two');
    assert.equal(v.manifest.sha256, sum);
  });

  it('bad names and taken names are usage errors; an aborted snapshot leaves nothing', () => {
    const { store } = setup();
    assert.throws(() => store.begin('../x'), UsageError);
    assert.throws(() => store.begin('Upper'), UsageError);
    const out = store.begin('three');
    out.abort();
    assert.deepEqual(readdirSync(store.dir), []);
    const ok = store.begin('four');
    ok.commit(manifest('four', 'x', 0, 'id'), '');
    assert.throws(() => store.begin('four'), UsageError);
    assert.throws(() => store.manifest('nope'), (e: unknown) => e instanceof UsageError && /four/.test(e.hint ?? ''));
  });

  it('a snapshot of another cluster is refused', () => {
    const { state } = setup();
    const id = clusterIdentity('trio', state);
    assert.doesNotThrow(() => checkIdentity(manifest('x', '', 0, id), 'trio', id));
    assert.throws(() => checkIdentity(manifest('x', '', 0, 'f'.repeat(64)), 'trio', id), (e: unknown) => e instanceof ClusterError && /not to this one/.test(e.message));
    const other = new StateDir(join(scratchDir('k8s-img-snap-'), 's'));
    other.write('ca.crt', '-----ANOTHER CA-----\n');
    assert.notEqual(clusterIdentity('trio', other), id);
  });

  it('default names are valid names and sort by time', () => {
    const a = defaultSnapshotName('demo', new Date('2026-11-27T06:50:01.123Z'));
    assert.equal(a, 'demo-20261127t065001z');
    assert.ok(a < defaultSnapshotName('demo', new Date('2026-11-27T06:50:02Z')));
  });
});

describe('periodic snapshots (etcd.snapshots)', () => {
  it('how often: whole numbers with units, largest first', () => {
    assert.deepEqual(['20s', '30m', '6h', '1d12h', '6h30m'].map(durationSeconds), [20, 1800, 21600, 129600, 23400]);
    for (const bad of ['', '6', '30m6h', '1.5h', '6 h', 'often']) assert.equal(durationSeconds(bad), undefined, bad);
  });
  it('a file name says when and on which version it was taken', () => {
    assert.deepEqual(periodicName('20261127t065012z-v1.37.2'), { createdAt: '2026-11-27T06:50:12.000Z', kubernetesVersion: '1.37.2' });
    for (const other of ['20261127t065012z', 'before', '20261127t065012z-v1.37.2.db', '.tmp-20261127t065012z-v1.37.2']) assert.equal(periodicName(other), undefined, other);
  });
  it('<node>:<name> (with or without .db) names one; fetched, it gets a valid snapshot name', () => {
    const ref = parsePeriodicRef('sw1:20261127t065012z-v1.37.2.db');
    assert.deepEqual(ref, { node: 'sw1', stem: '20261127t065012z-v1.37.2' });
    assert.equal(fetchedName(ref!), 'sw1-20261127t065012z-v1.37.2');
    assert.doesNotThrow(() => validSnapshotName(fetchedName(ref!)));
    for (const other of ['before', 'sw1:before', ':20261127t065012z-v1.37.2', 'sw1-20261127t065012z-v1.37.2']) assert.equal(parsePeriodicRef(other), undefined, other);
  });
});
