// Issue 15: the bgp backend in the plan (calico-node runs confd + BIRD, no
// encapsulation) and the reading of `calicoctl node status` behind `status`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeMesh, parseNodeStatus } from '../../src/pipeline/bgp-status.js';
import { planCluster } from '../../src/plan/plan.js';
import { renderBundles } from '../../src/render/bundle.js';
import { renderDiagram } from '../../src/render/diagram.js';
import { loadTemplates } from '../../src/runtime/templates.js';
import { fakeSecrets, loadFixture } from '../helpers/fixtures.js';

const bgp = planCluster(loadFixture('valid/tutorial-bgp.yaml'));
const vxlan = planCluster(loadFixture('valid/tutorial-secure.yaml'));
const service = (plan: typeof bgp, node: string, name: string) => plan.nodes.find((n) => n.name === node)!.services.find((s) => s.name === name)!;

describe('bgp backend in the plan', () => {
  it('calico-node runs BIRD in the mesh: backend bird, the AS, no VXLAN or IPIP, natOutgoing', () => {
    for (const n of bgp.nodes) {
      const env = service(bgp, n.name, 'calico-node').environment;
      assert.equal(env.CALICO_NETWORKING_BACKEND, 'bird');
      assert.equal(env.AS, '64512');
      assert.equal(env.CALICO_IPV4POOL_VXLAN, 'Never');
      assert.equal(env.CALICO_IPV4POOL_IPIP, 'Never');
      assert.equal(env.CALICO_IPV4POOL_NAT_OUTGOING, 'true');
      assert.equal(env.FELIX_VXLANMTU, undefined);
    }
    const vx = service(vxlan, 'sw1', 'calico-node').environment;
    assert.equal(vx.CALICO_NETWORKING_BACKEND, 'vxlan');
    assert.equal(vx.AS, undefined);
  });

  it('BGP listens on the node address (TCP 179) instead of VXLAN; the liveness check covers BIRD', () => {
    const s = service(bgp, 'sw1', 'calico-node');
    assert.deepEqual(s.ports.map((p) => `${p.bind}:${p.port}/${p.protocol}`), ['192.168.232.207:179/tcp', '127.0.0.1:9099/tcp']);
    assert.deepEqual(s.health!.test, ['calico-node', '-felix-live', '-felix-ready', '-bird-live']);
    assert.deepEqual(service(vxlan, 'sw1', 'calico-node').health!.test, ['calico-node', '-felix-live', '-felix-ready']);
  });

  it('pods get the node MTU: no encapsulation to make room for', () => {
    assert.equal(bgp.networking.mtu, 1500);
    const files = renderBundles(bgp, loadTemplates(), fakeSecrets(bgp)).get('sw2')!;
    assert.equal(JSON.parse(files.find((f) => f.path === 'install-cni/10-calico.conflist')!.content).plugins[0].mtu, 1500);
    assert.match(renderDiagram(bgp), /Calico v3\.28\.5 \(BGP mesh, AS 64512, MTU 1500\)/);
  });

  it('calico-kube-controllers runs once, on the first control plane, with no privileges and its own identity', () => {
    const where = bgp.nodes.filter((n) => n.services.some((s) => s.name === 'calico-kube-controllers')).map((n) => n.name);
    assert.deepEqual(where, ['sm1']);
    const s = service(bgp, 'sm1', 'calico-kube-controllers');
    assert.equal(s.privileges.privileged, false);
    assert.deepEqual(s.privileges.capDrop, ['ALL']);
    assert.equal(s.privileges.readOnlyRootfs, true);
    assert.equal(s.environment.ENABLED_CONTROLLERS, 'node');
    assert.ok(s.files.some((f) => 'secret' in f && f.secret === 'calico-kube-controllers.key'));
    const leaf = bgp.pki!.leaves.find((l) => l.name === 'calico-kube-controllers')!;
    assert.equal(leaf.commonName, 'calico-kube-controllers');
    assert.equal(leaf.usage, 'client');
  });
});

const STATUS = `Calico process is running.

IPv4 BGP status
+-----------------+-------------------+-------+----------+--------------------------------+
|  PEER ADDRESS   |     PEER TYPE     | STATE |  SINCE   |              INFO              |
+-----------------+-------------------+-------+----------+--------------------------------+
| 192.168.232.206 | node-to-node mesh | up    | 04:12:49 | Established                    |
| 192.168.232.208 | node-to-node mesh | start | 04:15:39 | Passive Socket: Connection     |
|                 |                   |       |          | closed                         |
+-----------------+-------------------+-------+----------+--------------------------------+

IPv6 BGP status
No IPv6 peers found.
`;

describe('calicoctl node status, read and judged', () => {
  it('reads the IPv4 peer table, including a multi-line INFO cell', () => {
    assert.deepEqual(parseNodeStatus(STATUS), [
      { address: '192.168.232.206', type: 'node-to-node mesh', state: 'up', since: '04:12:49', info: 'Established' },
      { address: '192.168.232.208', type: 'node-to-node mesh', state: 'start', since: '04:15:39', info: 'Passive Socket: Connection' },
    ]);
  });

  it('fails when a peer is not Established, names it and its state', () => {
    const sw1 = bgp.nodes.find((n) => n.name === 'sw1')!;
    const v = judgeMesh(bgp, sw1, parseNodeStatus(STATUS));
    assert.equal(v.ok, false);
    assert.match(v.detail, /sm1 192\.168\.232\.206 Established since 04:12:49/);
    assert.match(v.detail, /sw2 192\.168\.232\.208 Passive Socket: Connection \(start\)/);
  });

  it('fails when a node has no session at all; passes when every other node is Established', () => {
    const sm1 = bgp.nodes.find((n) => n.name === 'sm1')!;
    const none = judgeMesh(bgp, sm1, parseNodeStatus('Calico process is running.\n\nIPv4 BGP status\nNo IPv4 peers found.\n'));
    assert.equal(none.ok, false);
    assert.match(none.detail, /sw1 192\.168\.232\.207 no session, sw2 192\.168\.232\.208 no session/);
    const up = (a: string) => `| ${a} | node-to-node mesh | up | 10:00:00 | Established |`;
    assert.equal(judgeMesh(bgp, sm1, parseNodeStatus(`IPv4 BGP status\n${up('192.168.232.207')}\n${up('192.168.232.208')}\n`)).ok, true);
  });
});
