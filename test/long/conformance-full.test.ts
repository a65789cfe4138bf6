// The whole upstream conformance suite (462 specs at v1.37.2, [Serial] and
// [Disruptive] included) on a default `k8s-img up` cluster: too long for CI (about an
// hour on 2 cores), run with `npm run test:long`. Its last result is in the README.
import { removeLocalCluster } from '../../src/providers/local.js';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJunit } from '../../src/conformance/report.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { runCli } from '../helpers/cli.js';
import { ensureImages, fixtureConfig, writeTestCluster } from '../integration/harness.js';

const NAME = 'itconffull';
const docker = new DockerEngine();
const configPath = writeTestCluster(
  NAME,
  `  - { name: sm1, address: 192.168.244.206, roles: [control-plane] }
  - { name: sw1, address: 192.168.244.207, roles: [worker, etcd] }
  - { name: sw2, address: 192.168.244.208, roles: [worker] }
`,
);
const cli = (...args: string[]) => runCli([...args, '-c', configPath], { timeoutMs: 4 * 3_600_000 });
const out = join(process.env.K8S_IMG_CONFORMANCE_OUT ?? mkdtempSync(join(tmpdir(), 'k8s-img-conformance-full-')), 'results');

before(async () => {
  await ensureImages(fixtureConfig('tutorial-secure.yaml'));
  await removeLocalCluster(docker, NAME);
});
after(() => removeLocalCluster(docker, NAME));

describe('the full conformance suite on a default cluster', () => {
  it('k8s-img up', () => {
    const r = cli('up');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });

  it('k8s-img conformance: every [Conformance] spec passes', () => {
    const r = cli('conformance', '--parallel', '6', '-o', out);
    process.stderr.write(`results: ${out}\n${r.stdout.slice(-4000)}\n`);
    assert.ok(existsSync(join(out, 'junit_01.xml')), r.stderr.slice(-3000));
    const ran = parseJunit(readFileSync(join(out, 'junit_01.xml'), 'utf8')).filter((s) => s.status !== 'skipped');
    assert.deepEqual(ran.filter((s) => s.status === 'failed').map((s) => s.name), []);
    assert.equal(ran.length, 462, 'v1.37.2 has 462 [Conformance] specs');
    assert.equal(r.code, 0);
  });
});
