// Issue 10 on machines over SSH: the tutorial's three nodes (the ssh-node machines of
// test/integration/ssh.test.ts) deployed at 1.36.3 with `k8s-img deploy`, a Deployment
// behind a Service polled throughout `k8s-img upgrade --to 1.37.2`, which reaches the
// machines over SSH only; then status, verify, and the way back refused (`upgrade --to`
// and kubernetesVersion edited + `deploy`). Needs the 1.36.3 images: `npm run test:long`.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseClusterConfig } from '../../src/config/load.js';
import { withVersion } from '../../src/daytwo/upgrade.js';
import { fetchAndBuild } from '../../src/pipeline/artifacts.js';
import { hostResolvers, openCluster } from '../../src/pipeline/cluster.js';
import { ConsoleReporter } from '../../src/pipeline/progress.js';
import { clusterLabels } from '../../src/plan/names.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import { fixtureConfig, testName, testNet } from '../integration/harness.js';
import { inMachine, k8s, knownHostsText, kube, loginKey, machineName, show, sshNodeImage, stackState, startMachines, testCluster } from '../integration/ssh-nodes.js';
import { FROM, TO, assertRunsTo, httpOk, pollReport, poller, runningStep, webBehindService } from '../helpers/upgrade-suite.js';

const docker = new DockerEngine();
const keys = loginKey();
const NET = testNet(8, '192.168.248');
const c = testCluster(keys, testName('sshup'), NET, [
  { name: 'sm1', address: `${NET}.206`, roles: 'control-plane' },
  { name: 'sw1', address: `${NET}.207`, roles: 'worker, etcd' },
  { name: 'sw2', address: `${NET}.208`, roles: 'worker' },
]);
writeFileSync(c.file, withVersion(readFileSync(c.file, 'utf8'), FROM));
const step = () => runningStep(openCluster(c.file).state);
const apiserverStarted = async () => (await inMachine(docker, c, 'sm1', 'docker inspect -f {{.State.StartedAt}} k8s-img-kube-apiserver')).stdout;
let admin: KubeClient | undefined;
const suiteStarted = Date.now();

before(async () => {
  const text = readFileSync(c.file, 'utf8');
  for (const v of [FROM, TO]) await fetchAndBuild(parseClusterConfig(withVersion(text, v)).config, new ConsoleReporter(process.stderr));
  await docker.removeLabelled(clusterLabels(c.name));
  const image = await sshNodeImage(fixtureConfig('tutorial-secure.yaml'), docker);
  await startMachines(docker, image, c.name, `${NET}.0/24`, c.nodes, keys, hostResolvers());
  writeFileSync(c.knownHosts, knownHostsText(keys, c.nodes));
});

after(async () => {
  admin?.close();
  await docker.removeLabelled(clusterLabels(c.name));
  rmSync(keys.dir, { recursive: true, force: true }); // the state folder: bundles and image archives
  process.stderr.write(`ssh-upgrade.test: ${((Date.now() - suiteStarted) / 1000).toFixed(0)} s in all\n`);
});

describe(`upgrade over SSH: ${FROM} → ${TO} on the tutorial's three machines`, () => {
  it(`deploy at ${FROM}`, async () => {
    const t = Date.now();
    const r = await k8s(c, 'deploy');
    assert.equal(r.code, 0, show(r));
    process.stderr.write(`ssh-upgrade.test: deploy at ${FROM} in ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
    admin = kube(c);
    assert.equal((await admin.get<{ gitVersion: string }>('/version')).gitVersion, `v${FROM}`);
  });

  it('a downgrade is refused before anything runs (skips: unit tests; from 1.36.3 none is a supported version)', async () => {
    const down = await k8s(c, 'upgrade', '--to', '1.35.4');
    assert.equal(down.code, 64, show(down));
    assert.match(down.stderr, /downgrade from 1\.36\.3 to 1\.35\.4 refused/);
  });

  let nodePort = 0;
  it('a Deployment (2 replicas, one per worker) behind a NodePort Service', async () => {
    nodePort = await webBehindService(admin!, `${NET}.206`);
  });

  it(`k8s-img upgrade --to ${TO} over SSH: the Service answers throughout; every component runs ${TO} after`, async () => {
    const k = admin!;
    const service = poller(() => httpOk(`${NET}.206`, nodePort), 100, step);
    const api = poller(async () => (await k.raw('GET', '/readyz', undefined, { timeoutMs: 2000 })).status === 200, 200, step);
    const started = Date.now();
    const r = await k8s(c, 'upgrade', '--to', TO);
    const seconds = (Date.now() - started) / 1000;
    const s = await service.stop();
    const a = await api.stop();
    process.stderr.write(pollReport('ssh-upgrade.test', seconds, s, a, r.stderr));
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /upgraded from 1\.36\.3 to 1\.37\.2 in \d+ s/);
    assert.equal(s.failed, 0, 'the Service failed requests even after a retry');
    await assertRunsTo(k);
    assert.match(readFileSync(c.file, 'utf8'), /kubernetesVersion: "1\.37\.2"/);
    assert.equal(openCluster(c.file).state.read('upgrade.json'), undefined, 'the progress file is gone');
    const list = await k8s(c, 'etcd', 'snapshot', 'list');
    assert.match(list.stdout, /^pre-upgrade-1-36-3-\d+\s+\S+\s+1\.36\.3/m);
  });

  it(`status (every service on every machine at ${TO}) and verify pass`, async () => {
    const status = await k8s(c, 'status', '--json');
    const checks = JSON.parse(status.stdout) as { ok: boolean; scope: string; name: string; detail: string }[];
    assert.deepEqual(checks.filter((x) => !x.ok), []);
    const versions = checks.filter((x) => x.name === 'running versions');
    assert.deepEqual(versions.map((x) => x.scope).sort(), ['sm1', 'sw1', 'sw2']);
    for (const v of versions) {
      assert.match(v.detail, new RegExp(`v${TO.replace(/\./g, '\\.')}: [^;]*kubelet`), `${v.scope}: ${v.detail}`);
      assert.doesNotMatch(v.detail, /v1\.36\.3/, `${v.scope}: ${v.detail}`);
    }
    const sm1 = versions.find((x) => x.scope === 'sm1')!.detail;
    for (const svc of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) assert.match(sm1, new RegExp(`v1\\.37\\.2: [^;]*${svc}`), sm1);
    const verify = await k8s(c, 'verify');
    assert.equal(verify.code, 0, show(verify));
  });

  it('the way back is refused: upgrade --to 1.36.3, and kubernetesVersion edited back + deploy; nothing changes', async () => {
    const before = await apiserverStarted();
    const down = await k8s(c, 'upgrade', '--to', FROM);
    assert.equal(down.code, 64, show(down));
    assert.match(down.stderr, /downgrade from 1\.37\.2 to 1\.36\.3 refused/);
    const text = readFileSync(c.file, 'utf8');
    try {
      writeFileSync(c.file, withVersion(text, FROM));
      const d = await k8s(c, 'deploy');
      assert.equal(d.code, 2, show(d));
      assert.match(d.stderr, /kubernetesVersion: the cluster runs 1\.37\.2: downgrade from 1\.37\.2 to 1\.36\.3 refused/);
    } finally {
      writeFileSync(c.file, text);
    }
    assert.equal(await apiserverStarted(), before, 'the API server was not restarted');
    assert.equal(openCluster(c.file).state.read('upgrade.json'), undefined, 'no upgrade started');
  });

  it('deploy after the upgrade: every machine up to date, nothing recreated', async () => {
    const before = await Promise.all(c.nodes.map((n) => stackState(docker, machineName(c.name, n.name))));
    const r = await k8s(c, 'deploy');
    assert.equal(r.code, 0, show(r));
    for (const n of c.nodes) assert.match(r.stdout, new RegExp(`  ${n.name}: bundle up to date, images already there, no container \\(re\\)created`));
    assert.doesNotMatch(r.stdout, /upgraded/);
    assert.deepEqual(await Promise.all(c.nodes.map((n) => stackState(docker, machineName(c.name, n.name)))), before);
  });
});
