// The pure parts of deploy's decisions: preflight's judging of a host, etcd quorum
// when a member leaves, which cluster.yaml edits a running cluster accepts, and that
// adding a worker changes no other node's files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClusterConfig } from '../../src/config/load.js';
import { unsupportedChanges } from '../../src/pipeline/converge.js';
import { parseMemberList, quorumAfterRemoval } from '../../src/pipeline/etcd-members.js';
import { composeOutcome, type ServiceState } from '../../src/pipeline/node-ops.js';
import { judgeHost, parseFacts, type Facts } from '../../src/pipeline/preflight.js';
import { planCluster } from '../../src/plan/plan.js';
import { renderBundles } from '../../src/render/bundle.js';
import { loadTemplates } from '../../src/runtime/templates.js';
import { fakeSecrets } from '../helpers/fixtures.js';

const cluster = (nodes: string) => parseClusterConfig(`apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: demo\nnodes:\n${nodes}`).config;
const THREE = `  - { name: sm1, address: 192.168.232.206, roles: [control-plane] }
  - { name: sw1, address: 192.168.232.207, roles: [worker, etcd] }
  - { name: sw2, address: 192.168.232.208, roles: [worker] }
`;

// /proc/net lines as the kernel prints them: 0.0.0.0:22 LISTEN, 127.0.0.1:6444 LISTEN,
// 10.0.0.5:6443 ESTABLISHED (not a listener), :::6443 LISTEN (IPv6), 0.0.0.0:4789 UDP.
const FACTS = `uid=0
user=root
groups=root
docker=26.1.5+dfsg1
compose=2.26.1-4
dockerroot=/var/lib/docker
diskfree=40000000
bundlefree=40000000
capbnd=000001fffeffffff
swap=0
vxlan=yes
brnf=no
ours=
time=1764216000.000
[tcp]
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:1924 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0500000A:192B 0600000A:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
[tcp6]
  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:192B 00000000000000000000000000000000:0000 0A 0 0 0 0 0 0
[udp]
  sl  local_address rem_address   st
   0: 00000000:12B5 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2 0
`;

describe('preflight judges a host from its facts', () => {
  const plan = planCluster(cluster(THREE));
  const sm1 = plan.nodes[0]!;
  const need = { images: 1e9, bundle: 1e8 };
  const level = (facts: Facts, name: string) => judgeHost(plan, sm1, facts, need).find((c) => c.name === name)!;

  it('reads listeners, not connections, in IPv4 and IPv6', () => {
    const f = parseFacts(FACTS, 0);
    assert.deepEqual(f.sockets, [
      { proto: 'tcp', address: '0.0.0.0', port: 22 },
      { proto: 'tcp', address: '127.0.0.1', port: 6436 },
      { proto: 'tcp', address: '::', port: 6443 },
      { proto: 'udp', address: '0.0.0.0', port: 4789 },
    ]);
    assert.equal(f.values.docker, '26.1.5+dfsg1');
  });

  it('a port one of the node\'s services binds is taken: fail, naming port and service', () => {
    const c = level(parseFacts(FACTS, 0), 'ports free');
    assert.equal(c.level, 'fail');
    assert.match(c.detail, /6443\/tcp \(kube-apiserver, in use on ::\)/);
    assert.match(c.detail, /4789\/udp \(calico-node/);
    assert.ok(c.fix);
  });

  it('ports held by the cluster\'s own running services are not a conflict', () => {
    assert.equal(level(parseFacts(FACTS.replace('ours=', 'ours=kube-apiserver calico-node'), 0), 'ports free').level, 'ok');
  });

  it('old engines and Compose, a non-docker user, clock skew and a full disk fail; swap and br_netfilter warn', () => {
    const f = parseFacts(
      FACTS.replace('docker=26.1.5+dfsg1', 'docker=20.10.24+dfsg1').replace('compose=2.26.1-4', 'compose=2.20.1').replace('uid=0', 'uid=1000').replace('groups=root', 'groups=users').replace('swap=0', 'swap=1').replace('diskfree=40000000', 'diskfree=100'),
      -7.5,
    );
    for (const name of ['Docker Engine', 'Docker Compose v2', 'privileges', 'clock', 'disk for images']) assert.equal(level(f, name).level, 'fail', name);
    assert.equal(level(f, 'clock').detail, '-7.5 s from this machine');
    assert.equal(level(f, 'swap').level, 'warn');
    assert.equal(level(f, 'kernel: br_netfilter').level, 'warn');
    // Without CAP_SYS_RESOURCE (bit 24) containerd clamps oom_score_adj: nothing to fix.
    assert.equal(level(f, 'CAP_SYS_RESOURCE').level, 'ok');
    assert.match(level(f, 'CAP_SYS_RESOURCE').detail, /^missing: containerd clamps/);
    assert.equal(level(parseFacts(FACTS.replace('capbnd=000001fffeffffff', 'capbnd=000001ffffffffff'), 0), 'CAP_SYS_RESOURCE').detail, 'in the bounding set');
  });

  it('a docker-group user passes; a missing VXLAN fails', () => {
    const f = parseFacts(FACTS.replace('uid=0', 'uid=1000').replace('groups=root', 'groups=users docker').replace('vxlan=yes', 'vxlan=no'), 0);
    assert.equal(level(f, 'privileges').level, 'ok');
    assert.equal(level(f, 'kernel: VXLAN').level, 'fail');
  });
});

describe('etcd: a member leaves only when the members that stay keep a healthy quorum', () => {
  const members = parseMemberList(
    '8e9e05c52164694d, started, h1, https://10.0.0.1:2380, https://10.0.0.1:2379, false\n91bc3c398fb3c146, started, h2, https://10.0.0.2:2380, https://10.0.0.2:2379, false\nfd422379fda50e48, started, h3, https://10.0.0.3:2380, https://10.0.0.3:2379, false\n',
  );

  it('parses etcdctl member list', () => {
    assert.deepEqual(members.map((m) => [m.id, m.name, m.clientURLs]), [
      ['8e9e05c52164694d', 'h1', ['https://10.0.0.1:2379']],
      ['91bc3c398fb3c146', 'h2', ['https://10.0.0.2:2379']],
      ['fd422379fda50e48', 'h3', ['https://10.0.0.3:2379']],
    ]);
  });

  it('3 healthy members: one may leave', () => {
    assert.equal(quorumAfterRemoval(members, new Set(['h1', 'h2', 'h3']), 'h3').ok, true);
  });

  it('one member down: the down one may leave, a healthy one may not', () => {
    assert.equal(quorumAfterRemoval(members, new Set(['h2', 'h3']), 'h1').ok, true);
    const refused = quorumAfterRemoval(members, new Set(['h2', 'h3']), 'h3');
    assert.equal(refused.ok, false);
    assert.equal(refused.detail, '1 of the 2 members that stay are healthy (h2); quorum needs 2');
  });

  it('the last member never leaves', () => {
    assert.deepEqual(quorumAfterRemoval(members.slice(0, 1), new Set(['h1']), 'h1'), { ok: false, detail: 'h1 is the last etcd member' });
  });
});

describe('editing cluster.yaml of a running cluster', () => {
  const deployed = { provider: 'ssh' as const, nodes: planCluster(cluster(THREE)).nodes.map((n) => ({ name: n.name, address: n.address, roles: n.roles })) };

  it('a new worker and a removed node are accepted', () => {
    assert.deepEqual(unsupportedChanges(planCluster(cluster(`${THREE}  - { name: sw3, address: 192.168.232.209, roles: [worker] }\n`)), deployed), []);
    assert.deepEqual(unsupportedChanges(planCluster(cluster(THREE.split('\n').slice(0, 2).join('\n') + '\n')), deployed), []);
  });

  it('changed roles and a new etcd member are refused, naming the node and the way round', () => {
    const p = unsupportedChanges(planCluster(cluster(`${THREE.replace('roles: [worker] }', 'roles: [worker, control-plane] }')}  - { name: e4, address: 192.168.232.210, roles: [etcd] }\n`)), deployed);
    assert.deepEqual(p.map((x) => x.path), ['nodes[2].roles', 'nodes[3].roles']);
    assert.match(p[0]!.message, /sw2 runs as worker: the roles of a deployed node cannot change/);
    assert.match(p[1]!.message, /e4 would be a new member of the running etcd cluster/);
  });

  it('adding a worker leaves every other node\'s files as they were (secure mode): nothing there is recreated', () => {
    const render = (nodes: string) => {
      const plan = planCluster(cluster(nodes));
      return renderBundles(plan, loadTemplates(), fakeSecrets(plan));
    };
    const before = render(THREE);
    const after = render(`${THREE}  - { name: sw3, address: 192.168.232.209, roles: [worker] }\n`);
    for (const [node, files] of before) assert.deepEqual(after.get(node), files, node);
    assert.ok(after.has('sw3'));
  });
});

describe('what docker compose up -d did', () => {
  const c = (id: string, startedAt: string) => ({ Id: id, Name: '/x', State: { Status: 'running', Running: true, ExitCode: 0, StartedAt: startedAt } }) as ServiceState;
  it('a new container ID is a (re)creation, a new start time of the same one a start', () => {
    const before = new Map([['k8s-img-etcd', c('a', 't1')], ['k8s-img-host-prep', c('b', 't1')], ['k8s-img-kubelet', c('c', 't1')]]);
    const after = new Map([['k8s-img-etcd', c('a2', 't2')], ['k8s-img-host-prep', c('b', 't2')], ['k8s-img-kubelet', c('c', 't1')], ['k8s-img-api-lb', c('d', 't2')]]);
    assert.deepEqual(composeOutcome(before, after), { created: ['k8s-img-api-lb', 'k8s-img-etcd'], started: ['k8s-img-host-prep'] });
  });
});
