// Issue 9: real machines over SSH. The machines are node containers running Debian's
// sshd with keys made here; `deploy` reaches them over SSH only (the test looks inside
// with docker exec). Two clusters, shared between the cases to keep CI short: the
// tutorial's three nodes (host keys, preflight, deploy, redeploy, down), and three
// control planes with three etcd members (a lost machine, a worker added and removed,
// an etcd member removed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { openCluster, sshProvider } from '../../src/pipeline/cluster.js';
import type { Artifacts } from '../../src/pipeline/artifacts.js';
import { clusterLabels } from '../../src/plan/names.js';
import { readRecord } from '../../src/runtime/deploy-record.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig, readyNodes, waitFor } from '../../src/runtime/kube.js';
import { hostResolvers } from '../../src/pipeline/cluster.js';
import { runInProcess } from '../helpers/cli.js';
import { IT_IMAGES, ensureImages, fixtureConfig, testName, testNet } from './harness.js';
import { knownHostsText, loginKey, machineName, sshNodeImage, stackState, startMachines, type SshMachines } from './ssh-nodes.js';

const docker = new DockerEngine();
let image: string;
let artifacts: Artifacts;
const keys: SshMachines = loginKey();

interface TestCluster {
  name: string;
  net: string;
  dir: string;
  file: string;
  knownHosts: string;
  nodes: { name: string; address: string; roles: string }[];
}

function testCluster(name: string, net: string, nodes: TestCluster['nodes']): TestCluster {
  const c = { name, net, dir: keys.dir, file: join(keys.dir, `${name}.yaml`), knownHosts: join(keys.dir, `${name}.known_hosts`), nodes };
  writeConfig(c, nodes);
  return c;
}

function writeConfig(c: TestCluster, nodes: TestCluster['nodes']): void {
  writeFileSync(
    c.file,
    `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: ${c.name}\nssh: { user: root, identityFile: ${keys.identityFile} }\nnodes:\n${nodes.map((n) => `  - { name: ${n.name}, address: ${n.address}, roles: [${n.roles}] }\n`).join('')}images: { prefix: ${IT_IMAGES} }\n`,
  );
}

/** The CLI in this process, with the cluster's file (and its known_hosts for commands that go over SSH). */
const k8s = (c: TestCluster, ...args: string[]) => runInProcess([...args, '-c', c.file, ...(args[0] === 'verify' ? [] : ['--known-hosts', c.knownHosts])]);
const inMachine = (c: TestCluster, node: string, cmd: string) => docker.exec(machineName(c.name, node), ['sh', '-c', cmd]);
const show = (r: { code: number; stdout: string; stderr: string }) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

/** Nothing of the cluster on the machine: no bundle, no containers. */
async function untouched(c: TestCluster, node: string, bundle = '/opt/k8s-img'): Promise<void> {
  const r = await inMachine(c, node, `ls ${bundle} 2>&1; docker ps -aq | wc -l`);
  assert.match(r.stdout, /No such file or directory\n0\n$/, `${node}: ${r.stdout}`);
}

function kube(c: TestCluster): KubeClient {
  return new KubeClient(credentialsFromKubeconfig(join(c.dir, '.k8s-img', c.name, 'kubeconfig')));
}

const tutorial = testCluster(testName('ssh'), testNet(2), [
  { name: 'sm1', address: `${testNet(2)}.206`, roles: 'control-plane' },
  { name: 'sw1', address: `${testNet(2)}.207`, roles: 'worker, etcd' },
  { name: 'sw2', address: `${testNet(2)}.208`, roles: 'worker' },
]);
const HA_ALL = 'control-plane, etcd, worker';
const haNodes = ['h1', 'h2', 'h3'].map((n, i) => ({ name: n, address: `${testNet(3)}.${11 + i}`, roles: HA_ALL }));
const w4 = { name: 'w4', address: `${testNet(3)}.14`, roles: 'worker' };
const ha = testCluster(testName('ha'), testNet(3), haNodes);

before(async () => {
  artifacts = await ensureImages(fixtureConfig('tutorial-secure.yaml'));
  for (const c of [tutorial, ha]) await docker.removeLabelled(clusterLabels(c.name));
  image = await sshNodeImage(fixtureConfig('tutorial-secure.yaml'), docker);
  await startMachines(docker, image, tutorial.name, `${tutorial.net}.0/24`, tutorial.nodes, keys, hostResolvers());
});

after(async () => {
  for (const c of [tutorial, ha]) await docker.removeLabelled(clusterLabels(c.name));
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
    const listener = await docker.api.getContainer(machineName(tutorial.name, 'sm1')).exec({ Cmd: ['perl', '-MIO::Socket::INET', '-e', 'my $s = IO::Socket::INET->new(LocalPort => 6443, Listen => 5, ReuseAddr => 1) or die $!; sleep 600'] });
    await listener.start({ Detach: true });
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
    assert.equal(Object.keys(before[0]!).length, 12, 'sm1 runs its 12 services');
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

describe('HA: three control planes and three etcd members', () => {
  let admin: KubeClient;
  const etcdMembers = async () => (await inMachine(ha, 'h1', 'docker exec k8s-img-etcd etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd-ca.crt --cert=/etc/kubernetes/pki/etcd-server.crt --key=/etc/kubernetes/pki/etcd-server.key member list')).stdout.split('\n').filter(Boolean).map((l) => l.split(', ')[2]).sort();
  const stacks = () => Promise.all(haNodes.map((n) => stackState(docker, machineName(ha.name, n.name))));

  before(async () => {
    await startMachines(docker, image, ha.name, `${ha.net}.0/24`, [...haNodes, w4], keys, hostResolvers());
    writeFileSync(ha.knownHosts, knownHostsText(keys, [...haNodes, w4]));
    const r = await k8s(ha, 'deploy');
    assert.equal(r.code, 0, show(r));
    admin = kube(ha);
  });
  after(() => admin?.close());

  it('every node reaches the API through its own load balancer over all three control planes', async () => {
    const kc = await inMachine(ha, 'h3', 'grep server: /opt/k8s-img/bundle/kubelet/kubeconfig /opt/k8s-img/bundle/kube-proxy/kubeconfig /opt/k8s-img/bundle/calico-node/kubeconfig');
    assert.equal(kc.stdout.match(/server: https:\/\/127\.0\.0\.1:6444/g)?.length, 3, kc.stdout);
    // api-lb's /healthz lists the control planes it finds ready (perl is in every Debian).
    const health = await inMachine(ha, 'h3', `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:6445") or die $!; print $s "GET /healthz HTTP/1.0\\r\\n\\r\\n"; print <$s>'`);
    assert.match(health.stdout, /HTTP\/1\.0 200 OK[\s\S]*3\/3 control planes ready: (\S+:6443 ?){3}/, health.stdout);
  });

  it('a whole control-plane machine lost: the API through the others, verify and kubectl still work', async () => {
    const provider = sshProvider(openCluster(ha.file), readRecord(openCluster(ha.file).state), { knownHosts: ha.knownHosts });
    const c = openCluster(ha.file);
    const viaLb = async (node: string) => {
      const tunnel = await (await provider.session(node)).forward('127.0.0.1', 6444);
      return new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', path: '/api/v1/namespaces/default', createConnection: () => connect({ socket: tunnel, ca: c.state.read('ca.crt')!, cert: c.state.read('admin.crt')!, key: c.state.read('admin.key')!, host: '127.0.0.1' }), timeout: 5000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
      });
    };
    try {
      assert.equal(await viaLb('h2'), 200);
      await docker.api.getContainer(machineName(ha.name, 'h1')).stop({ t: 0 });
      assert.equal(await viaLb('h2'), 200, 'h2\'s load balancer answers at once through h2 or h3');
      assert.equal(await viaLb('h3'), 200);
      const kubectl = spawnSync(artifacts.bins.kubectl.path, ['--kubeconfig', join(ha.dir, '.k8s-img', ha.name, 'kubeconfig'), '--context', `admin@${ha.name}-via-h2`, 'get', 'nodes', '-o', 'name'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(kubectl.status, 0, kubectl.stderr);
      assert.match(kubectl.stdout, /node\/h1\nnode\/h2\nnode\/h3/);
      await waitFor('h1 NotReady', 180_000, async () => (!(await readyNodes(admin)).includes('h1') ? true : undefined), 2000);
      const v = await k8s(ha, 'verify');
      assert.equal(v.code, 0, show(v));
      assert.match(v.stdout, /pods are scheduled and start \(h2, h3\)/);
    } finally {
      // The machine comes back (Docker restarts its services) for the cases that follow.
      provider.close();
      await docker.startContainer(machineName(ha.name, 'h1'));
      await waitFor('h1 Ready again', 300_000, async () => ((await readyNodes(admin)).length === 3 ? true : undefined), 2000);
      await waitFor('h1 healthy again', 300_000, async () => ((await k8s(ha, 'status')).code === 0 ? true : undefined), 5000);
    }
  });

  it('a worker is added: certificates for it alone, nothing recreated on the others', async () => {
    const state = join(ha.dir, '.k8s-img', ha.name);
    const filesBefore = readdirSync(state);
    const before = await stacks();
    writeConfig(ha, [...haNodes, w4]);
    const r = await k8s(ha, 'deploy');
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(readdirSync(state).filter((f) => !filesBefore.includes(f)).sort(), ['kubelet-serving-w4.crt', 'kubelet-serving-w4.key', 'kubelet-w4.crt', 'kubelet-w4.key']);
    assert.deepEqual(await stacks(), before);
    assert.match(r.stdout, /w4: \d+ files sent .*images loaded/);
    assert.ok((await readyNodes(admin)).includes('w4'));
  });

  it('the worker is removed: its pods move, its Node goes, etcd is untouched', async () => {
    const deployments = '/apis/apps/v1/namespaces/default/deployments';
    await admin.create(deployments, {
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
      const pods = (await admin.get<Pods>('/api/v1/namespaces/default/pods?labelSelector=app%3Dmover')).items;
      return pods.length === 2 && pods.every((p) => p.status.phase === 'Running') ? pods.map((p) => p.spec.nodeName).sort() : undefined;
    }, 1000);
    assert.deepEqual(await placed(), ['w4', 'w4']);
    const members = await etcdMembers();
    writeConfig(ha, haNodes);
    const r = await k8s(ha, 'deploy');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /✓ w4: 2 pods evicted, Node deleted, stack removed/);
    assert.ok((await placed()).every((n) => n !== 'w4'));
    assert.equal(await admin.getOrUndefined('/api/v1/nodes/w4'), undefined);
    assert.deepEqual(await etcdMembers(), members);
    assert.deepEqual(members, ['h1', 'h2', 'h3']);
    assert.equal((await inMachine(ha, 'w4', 'docker ps -aq | wc -l')).stdout.trim(), '0');
  });

  it('an etcd member is removed from the three: the cluster stays healthy', async () => {
    writeConfig(ha, haNodes.slice(0, 2));
    const r = await k8s(ha, 'deploy');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /✓ h3: \d+ pods evicted.*, Node deleted, etcd member removed, stack removed/);
    assert.deepEqual(await etcdMembers(), ['h1', 'h2']);
    const s = await k8s(ha, 'status');
    assert.equal(s.code, 0, show(s));
    assert.match(s.stdout, /✓ etcd h1 .*\n {2}✓ etcd h2 /);
    assert.equal(await admin.getOrUndefined('/api/v1/nodes/h3'), undefined);
  });
});
