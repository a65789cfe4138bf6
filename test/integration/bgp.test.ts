// Issue 15: the tutorial's pod network for real — Calico in BGP mode, one cluster
// of the tutorial's topology shared by every case: BIRD's node-to-node mesh over
// TCP 179, plain routes to each node's block via its address, the tutorial's
// calicoctl checks, `status` and `verify`, a killed BIRD, and
// calico-kube-controllers freeing the block of a deleted node.
import { removeLocalCluster } from '../../src/providers/local.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminKubeconfigPath, names, openLocalCluster } from '../../src/pipeline/local.js';
import { KubeClient, credentialsFromKubeconfig, waitFor } from '../../src/runtime/kube.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { DEFAULT_RELEASE } from '../../src/config/versions.js';
import { imageRef } from '../../src/plan/images.js';
import { runCli } from '../helpers/cli.js';
import { createPod, podIP, runOnce } from '../helpers/pods.js';
import { ensureImages, fixtureConfig, writeTestCluster } from './harness.js';

const NAME = 'it15bgp';
const NODES = { sm1: '192.168.210.206', sw1: '192.168.210.207', sw2: '192.168.210.208' } as const;
type Node = keyof typeof NODES;
const ALL = Object.keys(NODES) as Node[];
const configPath = writeTestCluster(
  NAME,
  ALL.map((n) => `  - { name: ${n}, address: ${NODES[n]}, roles: [${n === 'sm1' ? 'control-plane' : n === 'sw1' ? 'worker, etcd' : 'worker'}] }\n`).join(''),
  'networking:\n  calico: { backend: bgp }\n',
);
// K8S_IMG_TEST_PREFIX (harness.ts) gives the suite images of its own.
const config = fixtureConfig('tutorial-bgp.yaml');
const WORKLOAD = imageRef(config.images.prefix, 'workload', DEFAULT_RELEASE);
const docker = new DockerEngine();
let kube: KubeClient;
const cli = (...args: string[]) => runCli([...args, '-c', configPath], { timeoutMs: 900_000 });
const inNode = (n: Node, cmd: string[]) => docker.exec(names.node(NAME, n), cmd);
const calicoctl = (n: Node, ...args: string[]) => inNode(n, ['docker', 'exec', 'k8s-img-calico-node', 'calicoctl', ...args]);

/** The row of `calicoctl node status` on `on` for the peer `peer`: [state, info]. */
async function peerRow(on: Node, peer: Node): Promise<string | undefined> {
  const r = await calicoctl(on, 'node', 'status');
  return r.stdout.split('\n').find((l) => l.includes(`| ${NODES[peer]} `));
}

interface Affinity { spec: { node: string; cidr: string; state: string } }
const affinities = async () => (await kube.get<{ items: Affinity[] }>('/apis/crd.projectcalico.org/v1/blockaffinities')).items;

/** GET http://ip:8080/ from a one-shot client pod on `from`; returns the server's name. */
const fetchFrom = (from: Node, ip: string) => runOnce(kube, WORKLOAD, from, ['http', '-timeout', '60s', `http://${ip}:8080/`]);

const serverIP: Partial<Record<Node, string>> = {};

before(async () => {
  await ensureImages(config);
  await removeLocalCluster(docker, NAME);
});

after(async () => {
  kube?.close();
  const r = cli('down');
  assert.equal(r.code, 0, r.stderr);
  await removeLocalCluster(docker, NAME);
});

describe('Calico BGP mode, the tutorial topology', () => {
  it('k8s-img up brings the cluster up in BGP mode', () => {
    const r = cli('up');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Cluster "it15bgp" is up \(secure mode\): 3 nodes Ready/);
    kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(openLocalCluster(configPath).state)));
  });

  it('every pair of nodes has a BIRD session Established, over TCP 179 between the node addresses', async () => {
    for (const n of ALL) {
      for (const peer of ALL.filter((p) => p !== n)) {
        const row = await waitFor(`${n} → ${peer} Established`, 120_000, async () => {
          const r = await peerRow(n, peer);
          return r && /\| node-to-node mesh \| up +\| [\d:]+ +\| Established/.test(r) ? r : undefined;
        });
        assert.ok(row);
        // One TCP connection per pair, from one node address to the other's port 179.
        const ss = await inNode(n, ['ss', '-Htn', 'state', 'established']);
        const a = NODES[n].replace(/\./g, '\\.');
        const b = NODES[peer].replace(/\./g, '\\.');
        assert.match(ss.stdout, new RegExp(`${a}:179\\s+${b}:\\d+|${a}:\\d+\\s+${b}:179`), `${n} ↔ ${peer}:\n${ss.stdout}`);
      }
    }
  });

  it("the tutorial's calicoctl checks: node status names the mesh, the pool has natOutgoing and no encapsulation", async () => {
    const status = await calicoctl('sw1', 'node', 'status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Calico process is running\./);
    const pool = await calicoctl('sm1', 'get', 'ippool', '-o', 'yaml');
    assert.equal(pool.code, 0, pool.stderr);
    assert.match(pool.stdout, /cidr: 172\.20\.0\.0\/16/);
    assert.match(pool.stdout, /natOutgoing: true/);
    assert.match(pool.stdout, /ipipMode: Never/);
    assert.match(pool.stdout, /vxlanMode: Never/);
    const nodes = await calicoctl('sm1', 'get', 'nodes', '-o', 'wide');
    for (const n of ALL) assert.match(nodes.stdout, new RegExp(`${n}\\s+64512\\s+${NODES[n].replace(/\./g, '\\.')}/24`), nodes.stdout);
  });

  it("each node reaches every other node's pod block by a plain route via that node's address, with no tunnel device", async () => {
    for (const n of ALL) await createPod(kube, WORKLOAD, `server-${n}`, n, ['serve']);
    for (const n of ALL) serverIP[n] = await podIP(kube, `server-${n}`);
    const blocks = await affinities();
    for (const owner of ALL) {
      const mine = blocks.filter((b) => b.spec.node === owner && b.spec.state === 'confirmed').map((b) => b.spec.cidr);
      assert.ok(mine.length > 0, `${owner} has a block`);
      for (const n of ALL.filter((x) => x !== owner)) {
        for (const cidr of mine) {
          const route = await waitFor(`${n}: route to ${cidr}`, 60_000, async () => (await inNode(n, ['ip', 'route', 'show', cidr])).stdout.trim() || undefined);
          assert.match(route, new RegExp(`^${cidr.replace(/\./g, '\\.')} via ${NODES[owner].replace(/\./g, '\\.')} dev eth0 proto bird`), `${n}: ${route}`);
        }
      }
    }
    for (const n of ALL) {
      const tunnels = await inNode(n, ['ip', '-o', 'link', 'show', 'type', 'vxlan']);
      const ipip = await inNode(n, ['ip', '-o', 'link', 'show', 'type', 'ipip']);
      assert.equal(`${tunnels.stdout}${ipip.stdout}`.trim(), '', `${n} has a tunnel device`);
    }
    assert.equal(await fetchFrom('sw1', serverIP.sm1!), 'server-sm1', 'a pod on sw1 reaches a pod on sm1');
  });

  it('k8s-img status shows every BGP peer Established and passes', () => {
    const r = cli('status', '--json');
    const checks = JSON.parse(r.stdout) as { scope: string; name: string; ok: boolean; detail: string }[];
    assert.deepEqual(checks.filter((c) => !c.ok), []);
    assert.equal(r.code, 0);
    for (const n of ALL) {
      const c = checks.find((x) => x.scope === n && x.name === 'BGP peers');
      const others = ALL.filter((p) => p !== n);
      assert.match(c?.detail ?? '', new RegExp(others.map((p) => `${p} ${NODES[p].replace(/\./g, '\\.')} Established`).join('.*')));
      assert.ok(checks.some((x) => x.scope === n && x.name === 'calico-node' && x.ok));
    }
    assert.ok(checks.some((c) => c.name === 'calico-kube-controllers' && c.ok));
    assert.ok(checks.some((c) => c.name === 'calico IP pool' && /vxlan=Never ipip=Never natOutgoing=true/.test(c.detail)));
  });

  it('k8s-img verify passes: TCP/UDP across nodes, Services, DNS', () => {
    const r = cli('verify');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /pod → pod, TCP, across nodes/);
    assert.match(r.stdout, /10 passed, 0 failed/);
  });

  it("BIRD killed on sw2: its peers see the session drop and come back, traffic recovers", async () => {
    const killed = await inNode('sw2', ['docker', 'exec', 'k8s-img-calico-node', 'sh', '-c', 'kill -9 "$(cat /etc/service/enabled/bird/pid)"']);
    assert.equal(killed.code, 0, killed.stderr);
    for (const peer of ['sm1', 'sw1'] as const) {
      const down = await waitFor(`${peer} sees the session to sw2 drop`, 30_000, async () => {
        const r = await peerRow(peer, 'sw2');
        return r && !/Established/.test(r) ? r : undefined;
      }, 200);
      assert.doesNotMatch(down, /Established/);
    }
    for (const peer of ['sm1', 'sw1'] as const) {
      await waitFor(`${peer} → sw2 Established again`, 120_000, async () => ((await peerRow(peer, 'sw2'))?.includes('Established') ? true : undefined), 500);
    }
    assert.equal(await fetchFrom('sw1', serverIP.sw2!), 'server-sw2');
    assert.equal(await fetchFrom('sw2', serverIP.sm1!), 'server-sm1');
  });

  it('status fails while a peer is down; deleting its Node object frees its IP block (calico-kube-controllers)', async () => {
    // sw2 leaves for good: its kubelet and calico-node stop, so nothing registers it again.
    for (const svc of ['kubelet', 'calico-node']) {
      const r = await inNode('sw2', ['docker', 'stop', `k8s-img-${svc}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const status = cli('status');
    assert.equal(status.code, 6, status.stdout);
    assert.match(status.stdout, /node sw1\n(.*\n)*? {2}✗ BGP peers +sm1 192\.168\.210\.206 Established.*sw2 192\.168\.210\.208 (?!Established)/);

    const blocks = (await affinities()).filter((b) => b.spec.node === 'sw2').map((b) => b.spec.cidr);
    assert.ok(blocks.length > 0, 'sw2 holds a block');
    // What a node's removal leaves behind: its pods (force-deleted, the kubelet is gone) and the Node.
    const onSw2 = await kube.get<{ items: { metadata: { name: string; namespace: string } }[] }>('/api/v1/pods?fieldSelector=spec.nodeName%3Dsw2');
    for (const p of onSw2.items) await kube.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}?gracePeriodSeconds=0`);
    await kube.delete('/api/v1/nodes/sw2');
    await waitFor('sw2 has no block affinity left', 180_000, async () => ((await affinities()).some((b) => b.spec.node === 'sw2') ? undefined : true));
    type Block = { spec: { cidr: string; affinity?: string | null } };
    const ipam = await kube.get<{ items: Block[] }>('/apis/crd.projectcalico.org/v1/ipamblocks');
    for (const cidr of blocks) {
      const b = ipam.items.find((x) => x.spec.cidr === cidr);
      assert.ok(!b || b.spec.affinity !== 'host:sw2', `${cidr} still belongs to sw2`);
    }
    const logs = await inNode('sm1', ['docker', 'logs', 'k8s-img-calico-kube-controllers']);
    assert.match(`${logs.stdout}${logs.stderr}`, /Cleaning up IPAM affinities for deleted node.*sw2|node="sw2".*Cleaning up/);
  });
});
