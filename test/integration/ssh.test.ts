// Issue 9: real machines over SSH. The machines are node containers running Debian's
// sshd with keys made here; `deploy` reaches them over SSH only (the test looks inside
// with docker exec). One cluster, shared by every case to keep CI short: the tutorial's
// three nodes and a fourth machine that joins as a worker and leaves again. The cases
// with three control planes (a lost machine, an etcd member removed) are in
// test/long/ssh-ha.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostResolvers, openCluster } from '../../src/pipeline/cluster.js';
import { clusterLabels, names } from '../../src/plan/names.js';
import { planCluster } from '../../src/plan/plan.js';
import { readRecord } from '../../src/runtime/deploy-record.js';
import { SnapshotStore } from '../../src/runtime/snapshots.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { readyNodes, waitFor, type KubeClient } from '../../src/runtime/kube.js';
import { IT_IMAGES, ensureImages, fixtureConfig, testName, testNet } from './harness.js';
import { inMachine as inMachineOf, k8s, kube, loginKey, machineName, show, sshNodeImage, stackState, startMachines, testCluster, writeConfig, type SshMachines, type TestCluster } from './ssh-nodes.js';

const docker = new DockerEngine();
const keys: SshMachines = loginKey();
const inMachine = (c: TestCluster, node: string, cmd: string) => inMachineOf(docker, c, node, cmd);

/** Nothing of the cluster on the machine: no bundle, no containers. */
async function untouched(c: TestCluster, node: string, bundle = '/opt/k8s-img'): Promise<void> {
  const r = await inMachine(c, node, `ls ${bundle} 2>&1; docker ps -aq | wc -l`);
  assert.match(r.stdout, /No such file or directory\n0\n$/, `${node}: ${r.stdout}`);
}

const NET = testNet(2);
const tutorial = testCluster(keys, testName('ssh'), NET, [
  { name: 'sm1', address: `${NET}.206`, roles: 'control-plane' },
  { name: 'sw1', address: `${NET}.207`, roles: 'worker, etcd' },
  { name: 'sw2', address: `${NET}.208`, roles: 'worker' },
]);
const w4 = { name: 'w4', address: `${NET}.209`, roles: 'worker' };
let admin: KubeClient | undefined;

before(async () => {
  await ensureImages(fixtureConfig('tutorial-secure.yaml'));
  await docker.removeLabelled(clusterLabels(tutorial.name));
  const image = await sshNodeImage(fixtureConfig('tutorial-secure.yaml'), docker);
  await startMachines(docker, image, tutorial.name, `${NET}.0/24`, [...tutorial.nodes, w4], keys, hostResolvers());
});

after(async () => {
  admin?.close();
  await docker.removeLabelled(clusterLabels(tutorial.name));
  rmSync(keys.dir, { recursive: true, force: true }); // the state folder: bundles and image archives
});

describe('deploy over SSH: the tutorial\'s three machines', () => {
  it('an unknown host key is refused, a changed one too, and nothing is sent', async () => {
    writeFileSync(tutorial.knownHosts, '');
    const r = await k8s(tutorial, 'deploy');
    assert.equal(r.code, 3, show(r));
    assert.match(r.stderr, new RegExp(`the host key of root@${tutorial.net.replace(/\./g, '\\.')}\\.206 is not known \\(ssh-ed25519 SHA256:`));
    assert.match(r.stderr, /run again with --accept-new/);
    // sm1's address with sw1's key: what a machine in the middle would show.
    writeFileSync(tutorial.knownHosts, `${tutorial.nodes[0]!.address} ${keys.hostKeys.get('sw1')}\n`);
    const changed = await k8s(tutorial, 'preflight');
    assert.equal(changed.code, 3, show(changed));
    assert.match(changed.stdout, /host key of root@\S+\.206 has CHANGED/);
    for (const n of tutorial.nodes) await untouched(tutorial, n.name);
  });

  it('preflight fails on a host with port 6443 taken, naming it, and deploy changes nothing', async () => {
    writeFileSync(tutorial.knownHosts, '');
    // Something else on the apiserver's port (perl is in every Debian).
    // In the background with its output closed, so the exec returns (a detached exec through
    // the engine's API left a connection open that kept the test process alive).
    await inMachine(tutorial, 'sm1', `nohup perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalPort => 6443, Listen => 5, ReuseAddr => 1) or die $!; sleep 600' >/dev/null 2>&1 &`);
    await waitFor('the listener on 6443', 30_000, async () => ((await inMachine(tutorial, 'sm1', 'grep -c ":192B 00000000:0000 0A" /proc/net/tcp')).stdout.trim() === '1' ? true : undefined));
    try {
      const p = await k8s(tutorial, 'preflight', '--accept-new');
      assert.equal(p.code, 3, show(p));
      assert.match(p.stdout, /node sm1 [^\n]*\n(.*\n)*? {2}✗ ports free +6443\/tcp \(kube-apiserver, in use on 0\.0\.0\.0\)\n {6}fix: /);
      assert.match(p.stdout, /added the host key|✓ reachable/);
      assert.match(p.stdout, /preflight failed on sm1\n/);
      const d = await k8s(tutorial, 'deploy');
      assert.equal(d.code, 3, show(d));
      assert.match(d.stderr, /preflight failed on sm1; nothing was changed on any node\n {2}sm1: ports free: 6443\/tcp/);
      for (const n of tutorial.nodes) await untouched(tutorial, n.name);
    } finally {
      await inMachine(tutorial, 'sm1', 'pkill -f IO::Socket || true');
    }
  });

  it('deploy brings the three machines up over SSH; status and verify pass', async () => {
    const r = await k8s(tutorial, 'deploy', '--accept-new');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`Cluster "${tutorial.name}" is deployed \\(secure mode\\): 3 nodes Ready \\(sm1, sw1, sw2\\), CoreDNS ready`));
    for (const n of ['sm1', 'sw1', 'sw2']) assert.match(r.stderr, new RegExp(`✓ ${n} \\(root@[\\d.]+\\): \\d+ files sent .*images loaded`));
    const s = await k8s(tutorial, 'status', '--json');
    assert.equal(s.code, 0, show(s));
    const checks = JSON.parse(s.stdout) as { scope: string; name: string; ok: boolean; skipped?: boolean }[];
    assert.deepEqual(checks.filter((c) => !c.ok || c.skipped), []);
    for (const n of ['sm1', 'sw1', 'sw2']) for (const svc of ['api-lb', 'containerd', 'kubelet', 'calico-node']) assert.ok(checks.some((c) => c.scope === n && c.name === svc), `${n}/${svc} checked over SSH`);
    const v = await k8s(tutorial, 'verify');
    assert.equal(v.code, 0, show(v));
    assert.match(v.stdout, /10 passed, 0 failed/);
  });

  it('a second deploy with nothing changed sends nothing and recreates nothing', async () => {
    const before = await Promise.all(tutorial.nodes.map((n) => stackState(docker, machineName(tutorial.name, n.name))));
    const r = await k8s(tutorial, 'deploy');
    assert.equal(r.code, 0, show(r));
    for (const n of tutorial.nodes) assert.match(r.stdout, new RegExp(`  ${n.name}: bundle up to date, images already there, no container \\(re\\)created`));
    const after = await Promise.all(tutorial.nodes.map((n) => stackState(docker, machineName(tutorial.name, n.name))));
    assert.deepEqual(after, before);
    const sm1 = planCluster(openCluster(tutorial.file).config).nodes.find((n) => n.name === 'sm1')!;
    assert.deepEqual(Object.keys(before[0]!).sort(), sm1.services.map((s) => `/${names.service(s.name)}`).sort(), 'sm1 runs every service of its plan');
  });

  it('every node reaches the API through its own load balancer', async () => {
    const kc = await inMachine(tutorial, 'sw2', 'grep server: /opt/k8s-img/bundle/kubelet/kubeconfig /opt/k8s-img/bundle/kube-proxy/kubeconfig /opt/k8s-img/bundle/calico-node/kubeconfig');
    assert.equal(kc.stdout.match(/server: https:\/\/127\.0\.0\.1:6444/g)?.length, 3, kc.stdout);
    // api-lb's /healthz lists the control planes it finds ready (perl is in every Debian).
    const health = await inMachine(tutorial, 'sw2', `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:6445") or die $!; print $s "GET /healthz HTTP/1.0\\r\\n\\r\\n"; print <$s>'`);
    assert.match(health.stdout, /HTTP\/1\.0 200 OK[\s\S]*1\/1 control planes ready: \S+\.206:6443/, health.stdout);
  });

  it('etcd snapshot save copies the snapshot off sw1 over SSH; list shows it (issue 10)', async () => {
    admin = kube(tutorial);
    await admin.create('/api/v1/namespaces', { metadata: { name: 'keep' } });
    await admin.create('/api/v1/namespaces/keep/configmaps', { metadata: { name: 'kept' }, data: { taken: 'before the snapshot' } });
    const r = await k8s(tutorial, 'etcd', 'snapshot', 'save', '--name', 'over-ssh');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^snapshot over-ssh: \d+ bytes, \d+ keys, revision \d+, from sw1 in [\d.]+ s$/m);
    const list = await k8s(tutorial, 'etcd', 'snapshot', 'list', '--json');
    assert.equal(list.code, 0, show(list));
    const [m] = JSON.parse(list.stdout) as { name: string; member: string; size: number; sha256: string }[];
    assert.equal(m?.name, 'over-ssh');
    assert.ok(m.size > 100_000, String(m.size));
    const file = join(new SnapshotStore(openCluster(tutorial.file).state).path('over-ssh'), 'snapshot.db');
    assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), m.sha256);
    // Nothing left on the machine: the work folder (with the etcd client key) is gone.
    assert.equal((await inMachine(tutorial, 'sw1', 'ls -A /var/lib/k8s-img/etcd-work')).stdout.trim(), '');
  });

  it('etcd snapshot restore over SSH: a deleted ConfigMap is back, the cluster healthy (issue 10)', async () => {
    const k = admin!;
    await k.delete('/api/v1/namespaces/keep/configmaps/kept');
    const r = await k8s(tutorial, 'etcd', 'snapshot', 'restore', 'over-ssh');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^restored over-ssh \(revision \d+, taken \S+\) on 1 member\(s\) in [\d.]+ s; API down [\d.]+ s$/m);
    const aside = /kept on each member in (\S+)/.exec(r.stdout)?.[1];
    assert.equal((await inMachine(tutorial, 'sw1', `test -f ${aside}/member/snap/db && ls -A /var/lib/k8s-img/etcd-work`)).stdout.trim(), '', 'the old data kept, no work folder left');
    const cm = await k.get<{ data: { taken: string } }>('/api/v1/namespaces/keep/configmaps/kept');
    assert.equal(cm.data.taken, 'before the snapshot');
    const s = await k8s(tutorial, 'status', '--json');
    assert.deepEqual((JSON.parse(s.stdout) as { ok: boolean }[]).filter((c) => !c.ok), []);
  });

  it('a worker is added: certificates for it alone, nothing recreated on the others', async () => {
    const state = join(tutorial.dir, '.k8s-img', tutorial.name);
    const filesBefore = readdirSync(state);
    const before = await Promise.all(tutorial.nodes.map((n) => stackState(docker, machineName(tutorial.name, n.name))));
    writeConfig(keys, tutorial, [...tutorial.nodes, w4]);
    const r = await k8s(tutorial, 'deploy', '--accept-new');
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(readdirSync(state).filter((f) => !filesBefore.includes(f)).sort(), ['kubelet-serving-w4.crt', 'kubelet-serving-w4.key', 'kubelet-w4.crt', 'kubelet-w4.key']);
    assert.deepEqual(await Promise.all(tutorial.nodes.map((n) => stackState(docker, machineName(tutorial.name, n.name)))), before);
    assert.match(r.stderr, /w4 \(root@[\d.]+\): \d+ files sent .*images loaded/);
    assert.ok((await readyNodes(admin!)).includes('w4'));
  });

  it('the worker is removed: its pods move, its Node goes, etcd is untouched', async () => {
    const k = admin!;
    await k.create('/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'mover' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'mover' } },
        template: {
          metadata: { labels: { app: 'mover' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['w4'] }] } }] } },
            containers: [{ name: 'w', image: `${IT_IMAGES}/workload:v1.37.2`, args: ['serve'] }],
          },
        },
      },
    });
    type Pods = { items: { spec: { nodeName?: string }; status: { phase: string } }[] };
    const placed = () => waitFor('mover pods running', 180_000, async () => {
      const pods = (await k.get<Pods>('/api/v1/namespaces/default/pods?labelSelector=app%3Dmover')).items;
      return pods.length === 2 && pods.every((p) => p.status.phase === 'Running') ? pods.map((p) => p.spec.nodeName).sort() : undefined;
    }, 1000);
    assert.deepEqual(await placed(), ['w4', 'w4']);
    const etcdMembers = async () => (await inMachine(tutorial, 'sw1', 'docker exec k8s-img-etcd etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd-ca.crt --cert=/etc/kubernetes/pki/etcd-server.crt --key=/etc/kubernetes/pki/etcd-server.key member list')).stdout;
    const members = await etcdMembers();
    assert.match(members, /, sw1, https:\/\//);
    writeConfig(keys, tutorial, tutorial.nodes);
    const r = await k8s(tutorial, 'deploy');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /✓ w4: 2 pods evicted, Node deleted, stack removed/);
    assert.ok((await placed()).every((n) => n !== 'w4'));
    assert.equal(await k.getOrUndefined('/api/v1/nodes/w4'), undefined);
    assert.equal(await etcdMembers(), members);
    assert.equal((await inMachine(tutorial, 'w4', 'docker ps -aq | wc -l')).stdout.trim(), '0');
  });

  it('down removes the stack from every machine over SSH; the keys stay', async () => {
    const r = await k8s(tutorial, 'down');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /stacks removed from 3 nodes/);
    for (const n of tutorial.nodes) {
      await untouched(tutorial, n.name, '/opt/k8s-img/bundle');
      const left = await inMachine(tutorial, n.name, 'ls -d /var/lib/etcd /var/lib/k8s-img /run/k8s-img 2>/dev/null; grep -c -E " /(var/lib/kubelet|run/k8s-img|run/netns/cni)" /proc/self/mounts');
      assert.equal(left.stdout.trim(), '0', `${n.name}: ${left.stdout}`);
    }
    assert.deepEqual(readRecord(openCluster(tutorial.file).state)?.nodes, []);
    await docker.removeLabelled(clusterLabels(tutorial.name));
  });
});

