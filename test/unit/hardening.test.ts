// Issue 13: secure mode hardened — file modes of every bundle, Pod Security defaults
// from cluster.yaml, and the default local cluster's private state folder.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { parseClusterConfig } from '../../src/config/load.js';
import { formatProblem } from '../../src/errors.js';
import { planCluster } from '../../src/plan/plan.js';
import { renderBundles } from '../../src/render/bundle.js';
import { loadTemplates } from '../../src/runtime/templates.js';
import { fakeSecrets, fixtureFiles, loadFixture } from '../helpers/fixtures.js';

const tutorial = () => planCluster(loadFixture('valid/tutorial-secure.yaml'));
const cluster = (nodes: string, extra = '') =>
  planCluster(parseClusterConfig(`apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: t\nnodes:\n${nodes}${extra}`, 't').config);

describe('bundle files that hold flags, configuration or keys are root\'s only', () => {
  for (const file of fixtureFiles('valid')) {
    it(file, () => {
      const plan = planCluster(loadFixture(`valid/${file}`));
      for (const [node, files] of renderBundles(plan, loadTemplates(), fakeSecrets(plan))) {
        for (const f of files) {
          const want = /\.(crt|pub)$/.test(f.path) ? 0o644 : 0o600;
          assert.equal(f.mode.toString(8), want.toString(8), `${node}/${f.path}`);
        }
      }
    });
  }
});

describe('Pod Security configuration', () => {
  it('defaults: baseline enforced, restricted warned and audited, nothing exempt', () => {
    const plan = tutorial();
    const files = renderBundles(plan, loadTemplates(), fakeSecrets(plan)).get('sm1')!;
    const admission = YAML.parse(files.find((f) => f.path === 'kube-apiserver/admission.yaml')!.content);
    const psa = admission.plugins[0].configuration;
    assert.deepEqual(psa.defaults, { enforce: 'baseline', 'enforce-version': 'latest', warn: 'restricted', 'warn-version': 'latest', audit: 'restricted', 'audit-version': 'latest' });
    assert.deepEqual(psa.exemptions, { usernames: [], runtimeClasses: [], namespaces: [] });
    const apiserver = plan.nodes[0]!.services.find((s) => s.name === 'kube-apiserver')!;
    assert.ok(apiserver.command.includes('--admission-control-config-file=/etc/kubernetes/admission.yaml'));
  });

  it('cluster.yaml sets the levels and exemptions', () => {
    const plan = cluster('  - { name: a, address: 10.1.2.3, roles: [control-plane, etcd, worker] }\n', 'security: { podSecurity: { enforce: restricted, exemptNamespaces: [monitoring, kube-system] } }\n');
    const files = renderBundles(plan, loadTemplates(), fakeSecrets(plan)).get('a')!;
    const psa = YAML.parse(files.find((f) => f.path === 'kube-apiserver/admission.yaml')!.content).plugins[0].configuration;
    assert.equal(psa.defaults.enforce, 'restricted');
    assert.deepEqual(psa.exemptions.namespaces, ['monitoring', 'kube-system']);
  });

  it('simple mode admits every pod: setting levels there is a warning', () => {
    const { warnings } = parseClusterConfig(
      'apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: t\nnodes: [{ name: a, address: 10.1.2.3, roles: [control-plane, etcd, worker] }]\nsecurity: { mode: simple, podSecurity: { enforce: restricted } }\n',
      't',
    );
    assert.ok(warnings.map(formatProblem).some((l) => l.startsWith('security.podSecurity: warning: is only applied in secure mode')));
    const plan = cluster('  - { name: a, address: 10.1.2.3, roles: [control-plane, etcd, worker] }\n', 'security: { mode: simple }\n');
    assert.ok(!plan.nodes[0]!.services.find((s) => s.name === 'kube-apiserver')!.command.some((a) => a.includes('admission-control-config-file')));
  });
});

describe('the default local cluster keeps its keys private', () => {
  it('its state folder is made 0700', async () => {
    const root = join(scratchDir('k8s-img-state-'), 'share', 'k8s-img');
    const before = process.env.K8S_IMG_STATE;
    process.env.K8S_IMG_STATE = root;
    try {
      const { openLocalCluster } = await import('../../src/pipeline/local.js');
      const c = openLocalCluster(undefined, true);
      assert.equal((statSync(c.state.dir).mode & 0o777).toString(8), '700');
    } finally {
      if (before === undefined) delete process.env.K8S_IMG_STATE;
      else process.env.K8S_IMG_STATE = before;
    }
  });
});
