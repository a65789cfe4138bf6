// Issue 9, too long for CI: three control planes with three etcd members deployed over
// SSH (machines as in test/integration/ssh.test.ts): every node's load balancer over the
// three, a whole control-plane machine lost (the API, verify and kubectl keep working
// through the other two), then an etcd member removed from the three. `npm run test:long`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { hostResolvers, openCluster, sshProvider } from '../../src/pipeline/cluster.js';
import type { Artifacts } from '../../src/pipeline/artifacts.js';
import { clusterLabels } from '../../src/plan/names.js';
import { readRecord } from '../../src/runtime/deploy-record.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { readyNodes, waitFor, type KubeClient } from '../../src/runtime/kube.js';
import { ensureImages, fixtureConfig, testName, testNet } from '../integration/harness.js';
import { inMachine as inMachineOf, k8s, knownHostsText, kube, loginKey, machineName, show, sshNodeImage, startMachines, testCluster, writeConfig, type SshMachines, type TestCluster } from '../integration/ssh-nodes.js';

const docker = new DockerEngine();
const keys: SshMachines = loginKey();
const inMachine = (c: TestCluster, node: string, cmd: string) => inMachineOf(docker, c, node, cmd);
let artifacts: Artifacts;
const HA_ALL = 'control-plane, etcd, worker';
const haNodes = ['h1', 'h2', 'h3'].map((n, i) => ({ name: n, address: `${testNet(3)}.${11 + i}`, roles: HA_ALL }));
const ha = testCluster(keys, testName('ha'), testNet(3), haNodes);

before(async () => {
  artifacts = await ensureImages(fixtureConfig('tutorial-secure.yaml'));
  await docker.removeLabelled(clusterLabels(ha.name));
  const image = await sshNodeImage(fixtureConfig('tutorial-secure.yaml'), docker);
  await startMachines(docker, image, ha.name, `${ha.net}.0/24`, haNodes, keys, hostResolvers());
});

after(async () => {
  await docker.removeLabelled(clusterLabels(ha.name));
  rmSync(keys.dir, { recursive: true, force: true }); // the state folder: bundles and image archives
});

describe('HA: three control planes and three etcd members', () => {
  let admin: KubeClient;
  const etcdMembers = async () => (await inMachine(ha, 'h1', 'docker exec k8s-img-etcd etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd-ca.crt --cert=/etc/kubernetes/pki/etcd-server.crt --key=/etc/kubernetes/pki/etcd-server.key member list')).stdout.split('\n').filter(Boolean).map((l) => l.split(', ')[2]).sort();

  before(async () => {
    writeFileSync(ha.knownHosts, knownHostsText(keys, haNodes));
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

  it('an etcd member is removed from the three: the cluster stays healthy', async () => {
    writeConfig(keys, ha, haNodes.slice(0, 2));
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
