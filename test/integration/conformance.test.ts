// Issue 8: the upstream conformance suite, built here and run offline. CI runs the
// fixed quick subset (src/conformance/subset.ts) on two topologies: the tutorial's
// (the default `k8s-img up`), and one with another DNS domain, other pod and service
// networks and three etcd members on the workers. The whole suite runs in
// `npm run test:long` (test/long/conformance-full.test.ts).
import { removeLocalCluster } from '../../src/providers/local.js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CI_SUBSET_SPECS } from '../../src/conformance/subset.js';
import { parseJunit } from '../../src/conformance/report.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { runCli } from '../helpers/cli.js';
import { ensureImages, fixtureConfig, writeTestCluster } from './harness.js';
import { scratchDir } from '../helpers/scratch.js';

const docker = new DockerEngine();

const topologies = [
  {
    name: 'itconf',
    what: "the tutorial's topology, defaults",
    nodes: `  - { name: sm1, address: 192.168.242.206, roles: [control-plane] }
  - { name: sw1, address: 192.168.242.207, roles: [worker, etcd] }
  - { name: sw2, address: 192.168.242.208, roles: [worker] }
`,
    extra: '',
  },
  {
    name: 'itconf2',
    what: 'another DNS domain, other pod and service networks, three etcd members on the workers',
    nodes: `  - { name: cp1, address: 192.168.243.10, roles: [control-plane] }
  - { name: w1, address: 192.168.243.11, roles: [worker, etcd] }
  - { name: w2, address: 192.168.243.12, roles: [worker, etcd] }
  - { name: w3, address: 192.168.243.13, roles: [worker, etcd] }
`,
    extra: `networking:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.100.0.0/16
  clusterDNS: 10.100.0.10
  dnsDomain: k8s-img.test
`,
  },
];

before(async () => {
  await ensureImages(fixtureConfig('tutorial-secure.yaml'));
});

for (const t of topologies) {
  describe(`conformance quick subset: ${t.what}`, () => {
    const configPath = writeTestCluster(t.name, t.nodes, t.extra);
    const cli = (...args: string[]) => runCli([...args, '-c', configPath], { timeoutMs: 3_600_000 });
    const out = join(scratchDir(`k8s-img-${t.name}-results-`), 'results');

    before(() => removeLocalCluster(docker, t.name));
    after(() => removeLocalCluster(docker, t.name));

    it('k8s-img up', () => {
      const r = cli('up');
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    });

    it(`every one of the ${CI_SUBSET_SPECS.length} specs runs once and passes`, () => {
      const r = cli('conformance', '--quick', '-o', out);
      const junit = join(out, 'junit_01.xml');
      assert.ok(existsSync(junit), `no junit report\n${r.stdout}\n${r.stderr.slice(-3000)}`);
      assert.ok(existsSync(join(out, 'e2e.log')));
      const ran = parseJunit(readFileSync(junit, 'utf8')).filter((s) => s.status !== 'skipped');
      const failed = ran.filter((s) => s.status === 'failed');
      assert.deepEqual(failed.map((f) => `${f.name}: ${f.failure}`), [], readFileSync(join(out, 'summary.txt'), 'utf8'));
      // Each name of the subset matched exactly one spec, and nothing else ran.
      for (const spec of CI_SUBSET_SPECS) assert.equal(ran.filter((s) => s.name.startsWith(spec)).length, 1, spec);
      assert.equal(ran.length, CI_SUBSET_SPECS.length);
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      assert.match(r.stdout, new RegExp(`conformance: ${CI_SUBSET_SPECS.length}/${CI_SUBSET_SPECS.length} passed, 0 failed`));
    });
  });
}
