// Issue 2/4: the tutorial's first flavour ("simple" mode) also gives a working
// cluster — and is as open as the tutorial says, with a warning every time. This
// suite also covers the other shape: three nodes that each run every role (three
// apiservers, a three-member etcd).
import { removeLocalCluster } from '../../src/providers/local.js';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { DockerEngine } from '../../src/runtime/docker.js';
import { runCli } from '../helpers/cli.js';
import { ensureImages, fixtureConfig, testName, testNet, writeTestCluster } from './harness.js';

const NAME = testName('simple');
const NET = testNet(1);
const configPath = writeTestCluster(
  NAME,
  `  - { name: m1, address: ${NET}.10, roles: [control-plane, etcd, worker] }
  - { name: m2, address: ${NET}.11, roles: [control-plane, etcd, worker] }
  - { name: m3, address: ${NET}.12, roles: [control-plane, etcd, worker] }
`,
  'security: { mode: simple }\n',
);
const docker = new DockerEngine();
const cli = (...args: string[]) => runCli([...args, '-c', configPath], { timeoutMs: 900_000 });

before(async () => {
  await ensureImages(fixtureConfig('tutorial-simple.yaml'));
  await removeLocalCluster(docker, NAME);
});
after(() => removeLocalCluster(docker, NAME));

describe('local cluster, simple mode', () => {
  it('up works and warns about simple mode', () => {
    const r = cli('up');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /simple mode: anyone who reaches port 6443 or 10250 controls the cluster/);
    assert.match(r.stdout, /3 nodes Ready \(m1, m2, m3\)/);
  });

  it('status and verify pass', () => {
    const s = cli('status');
    assert.equal(s.code, 0, s.stdout);
    for (const m of ['m1', 'm2', 'm3']) assert.match(s.stdout, new RegExp(`✓ etcd ${m} +\\{"health":"true"`));
    const v = cli('verify');
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
    assert.match(v.stdout, /10 passed, 0 failed/);
  });

  it('anonymous requests are authorized, as in the tutorial', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(`https://${NET}.10:6443/api/v1/namespaces/kube-system/pods`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(status, 200);
  });

  it('down removes everything', () => {
    assert.equal(cli('down').code, 0);
  });
});
