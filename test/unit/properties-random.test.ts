// Property test: for random valid clusters, the pieces that must agree do agree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import YAML from 'yaml';
import { resolveDefaults } from '../../src/config/defaults.js';
import { contains, parseCidr, parseIPv4 } from '../../src/config/net.js';
import { checkRules } from '../../src/config/rules.js';
import type { ClusterConfig, Role } from '../../src/config/schema.js';
import { planCluster } from '../../src/plan/plan.js';
import type { ClusterPlan, ServicePlan } from '../../src/plan/types.js';
import { renderBundles } from '../../src/render/bundle.js';
import { loadTemplates } from '../../src/runtime/templates.js';
import { composeValidator } from '../helpers/compose-schema.js';
import { fakeSecrets } from '../helpers/fixtures.js';

const templates = loadTemplates();
const validate = composeValidator();

const roleSets: Role[][] = [['control-plane'], ['worker'], ['etcd'], ['control-plane', 'etcd'], ['worker', 'etcd'], ['control-plane', 'worker', 'etcd'], ['control-plane', 'worker']];

const clusterArb = fc
  .record({
    roles: fc.array(fc.constantFrom(...roleSets), { minLength: 1, maxLength: 6 }),
    nodeNet: fc.constantFrom('192.168.232', '10.0.0', '172.31.5'),
    firstHost: fc.integer({ min: 2, max: 200 }),
    podCIDR: fc.constantFrom('172.20.0.0/16', '10.244.0.0/16', '192.168.128.0/17', '100.64.0.0/12'),
    serviceCIDR: fc.constantFrom('10.68.0.0/16', '10.96.0.0/12', '172.21.0.0/24'),
    dnsOffset: fc.integer({ min: 2, max: 200 }),
    domain: fc.constantFrom('cluster.local', 'k8s.example.org'),
    mode: fc.constantFrom('simple' as const, 'secure' as const),
    mtu: fc.integer({ min: 1200, max: 8950 }),
  })
  .map((r): ClusterConfig => {
    const svc = parseCidr(r.serviceCIDR)!;
    const dns = svc.base + (r.dnsOffset % (2 ** (32 - svc.prefix) - 2)) + (r.dnsOffset < 2 ? 2 : 0);
    return {
      apiVersion: 'k8s-img/v1alpha1',
      kind: 'Cluster',
      name: 'prop',
      nodes: r.roles.map((roles, i) => ({ name: `n${i}`, address: `${r.nodeNet}.${r.firstHost + i}`, roles })),
      networking: {
        podCIDR: r.podCIDR,
        serviceCIDR: r.serviceCIDR,
        clusterDNS: [24, 16, 8, 0].map((s) => Math.floor(Math.max(dns, svc.base + 2) / 2 ** s) % 256).join('.'),
        dnsDomain: r.domain,
        calico: { mtu: r.mtu },
      },
      security: { mode: r.mode },
    };
  })
  .filter((c) => checkRules(resolveDefaults(c)).every((p) => p.severity !== 'error'));

const flag = (s: ServicePlan | undefined, name: string) => s?.command.find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');

function check(plan: ClusterPlan, c: ClusterConfig): void {
  const net = resolveDefaults(c).networking;
  const svc = parseCidr(net.serviceCIDR)!;
  const services = plan.nodes.flatMap((n) => n.services.map((s) => ({ node: n, s })));
  const find = (name: string) => services.filter((x) => x.s.name === name).map((x) => x.s);

  for (const api of find('kube-apiserver')) assert.equal(flag(api, 'service-cluster-ip-range'), net.serviceCIDR);
  for (const cm of find('kube-controller-manager')) {
    assert.equal(flag(cm, 'service-cluster-ip-range'), net.serviceCIDR);
    assert.equal(flag(cm, 'cluster-cidr'), net.podCIDR);
  }
  for (const calico of find('calico-node')) assert.equal(calico.environment.CALICO_IPV4POOL_CIDR, net.podCIDR);

  const controlPlaneAddresses = c.nodes.filter((n) => n.roles.includes('control-plane')).map((n) => n.address);
  const etcdMembers = c.nodes.filter((n) => n.roles.includes('etcd')).map((n) => n.name).sort();
  assert.deepEqual(plan.nodes.filter((n) => n.services.some((s) => s.name === 'etcd')).map((n) => n.name).sort(), etcdMembers);

  for (const [node, files] of renderBundles(plan, templates, fakeSecrets(plan))) {
    for (const f of files) {
      if (f.path.endsWith('kubelet.yaml')) {
        const kc = YAML.parse(f.content);
        for (const ip of kc.clusterDNS) assert.ok(contains(svc, parseIPv4(ip)!), `${node}: cluster DNS ${ip} outside ${net.serviceCIDR}`);
      }
      if (f.path.endsWith('kubeconfig')) {
        // The node's own control plane, or the node's api-lb (which spreads over all of them).
        const server: string = YAML.parse(f.content).clusters[0].cluster.server;
        const host = new URL(server).hostname;
        assert.ok(controlPlaneAddresses.includes(host) || server === 'https://127.0.0.1:6444', `${node}/${f.path} points at ${server}, neither a control plane nor the node's api-lb`);
      }
      if (f.path === 'compose.yaml') assert.deepEqual(validate(YAML.parse(f.content)), [], `${node}/compose.yaml`);
      if (f.path.endsWith('.conflist')) assert.equal(JSON.parse(f.content).plugins[0].mtu, net.calico.mtu);
      if (f.path.endsWith('hosts.toml')) {
        // Every pull goes to a control plane's registry copy, and never anywhere else.
        const urls = [...f.content.matchAll(/^(?:server = |\[host\.)"(\w+:\/\/[^"]+)"/gm)].map((m) => new URL(m[1]!).hostname);
        assert.deepEqual([...urls].sort(), [...controlPlaneAddresses].sort(), `${node}/${f.path}`);
      }
    }
  }

  for (const lb of find('api-lb')) {
    const backends = lb.command.filter((a) => a.startsWith('-backend=')).map((a) => a.slice('-backend='.length));
    assert.deepEqual(backends.sort(), controlPlaneAddresses.map((a) => `${a}:6443`).sort(), 'api-lb spreads over every control plane');
  }
  assert.equal(find('api-lb').length, plan.nodes.length, 'every node runs api-lb');

  const mayBePrivileged = new Set(['containerd', 'kubelet', 'kube-proxy', 'calico-node', 'host-prep']);
  for (const { s } of services) {
    if (!mayBePrivileged.has(s.name)) {
      assert.equal(s.privileges.privileged, false, `${s.name} privileged`);
      assert.deepEqual(s.privileges.capDrop, ['ALL']);
      assert.equal(s.privileges.noNewPrivileges, true);
    }
  }
}

describe('random valid clusters', () => {
  it('agree on CIDRs, DNS, kubeconfig servers and etcd placement', () => {
    fc.assert(
      fc.property(clusterArb, (c) => check(planCluster(resolveDefaults(c)), c)),
      { numRuns: 150, seed: 20261126 },
    );
  });
});
