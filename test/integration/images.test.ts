// Issue 3: every image starts and reports its version; etcd and the apiserver
// really serve; builds are content-addressed; save archives load into a clean engine.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GenericContainer, Network, Wait, type StartedTestContainer } from 'testcontainers';
import { findRelease } from '../../src/config/versions.js';
import { BuildError } from '../../src/errors.js';
import { buildImages, buildNodeImage } from '../../src/pipeline/build.js';
import { fetchBinaries } from '../../src/pipeline/fetch.js';
import { silentReporter } from '../../src/pipeline/progress.js';
import { SBOM_LABEL } from '../../src/pipeline/assemble.js';
import { saveNodeArchives, sbomFileName } from '../../src/pipeline/save.js';
import { SBOM_DIR } from '../../src/plan/components.js';
import { IMAGES } from '../../src/plan/images.js';
import { planCluster } from '../../src/plan/plan.js';
import { IMAGE_IDS } from '../../src/plan/types.js';
import { renderBundles } from '../../src/render/bundle.js';
import { BinaryCache } from '../../src/runtime/bincache.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { GoToolchain } from '../../src/runtime/gotool.js';
import { PACKAGE_ROOT, cacheDir } from '../../src/runtime/paths.js';
import { StateDir, basicIssuer } from '../../src/runtime/state.js';
import { loadTemplates } from '../../src/runtime/templates.js';
import { TEST_LABELS, ensureImages, fixtureConfig } from './harness.js';
import { scratchDir } from '../helpers/scratch.js';

const config = fixtureConfig('tutorial-simple.yaml');
const release = findRelease(config.kubernetesVersion)!;
const docker = new DockerEngine();
const started: StartedTestContainer[] = [];

before(async () => {
  await ensureImages(config);
});

after(async () => {
  for (const c of started) await c.stop({ remove: true, removeVolumes: true }).catch(() => undefined);
  // One-shot containers have already exited, and stop() does not remove those: remove by label.
  await docker.removeLabelled(TEST_LABELS);
});

describe('every image starts and reports the expected version', () => {
  for (const id of IMAGE_IDS) {
    const def = IMAGES[id];
    it(`${id}: ${def.versionCommand.join(' ')}`, async () => {
      const ref = planCluster(config).images[id];
      const c = await new GenericContainer(ref)
        .withEntrypoint([def.versionCommand[0]!])
        .withCommand(def.versionCommand.slice(1))
        .withLabels(TEST_LABELS)
        .withWaitStrategy(Wait.forOneShotStartup())
        .start();
      started.push(c);
      const out = await containerOutput(c);
      assert.match(out, new RegExp(def.expectVersion(release).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `${ref} printed:\n${out}`);
    });
  }
});

describe('calico-node carries what the BGP backend needs', () => {
  it('BIRD 1.6.8 (bookworm), birdcl for the liveness check, calicoctl, sv and the confd templates', async () => {
    const ref = planCluster(config).images['calico-node'];
    const script = [
      'bird --version 2>&1',
      'birdcl -s /nonexistent show status 2>&1; echo "birdcl exit $?"',
      'calicoctl version',
      'sv status /nonexistent; echo "sv exit $?"',
      'ls /etc/calico/confd/conf.d /etc/calico/confd/templates',
    ].join('; ');
    const c = await new GenericContainer(ref).withEntrypoint(['/bin/bash']).withCommand(['-c', script]).withLabels(TEST_LABELS).withWaitStrategy(Wait.forOneShotStartup()).start();
    started.push(c);
    const out = await containerOutput(c);
    assert.match(out, /BIRD version 1\.6\.8/);
    assert.match(out, /Unable to connect to server control socket \(\/nonexistent\)[\s\S]*birdcl exit 1/, 'birdcl is Debian\'s birdc');
    assert.match(out, new RegExp(`Client Version: +${release.calico.release.replace(/\./g, '\\.')}`));
    assert.match(out, /down: \/nonexistent\nsv exit 1/);
    for (const f of ['bird.toml', 'bird-aggr.toml', 'bird-ipam.toml', 'bird.cfg.template', 'bird_aggr.cfg.template', 'bird_ipam.cfg.template']) assert.ok(out.includes(f), f);
  });
});

describe('components really serve', () => {
  it('etcd answers its health endpoint and etcdctl endpoint health', async () => {
    const ref = planCluster(config).images.etcd;
    const etcd = await new GenericContainer(ref)
      .withCommand(['--data-dir=/tmp/etcd', '--listen-client-urls=http://0.0.0.0:2379', '--advertise-client-urls=http://127.0.0.1:2379', '--listen-metrics-urls=http://0.0.0.0:2381'])
      .withExposedPorts(2379, 2381)
      .withLabels(TEST_LABELS)
      .withWaitStrategy(Wait.forHttp('/readyz', 2381).forStatusCode(200))
      .start();
    started.push(etcd);
    const health = await etcd.exec(['/usr/local/bin/etcdctl', '--endpoints=http://127.0.0.1:2379', 'endpoint', 'health']);
    assert.equal(health.exitCode, 0, health.output);
    assert.match(health.output, /is healthy/);
    const probe = await etcd.exec(['/usr/local/bin/k8s-img-probe', 'http://127.0.0.1:2381/livez']);
    assert.equal(probe.exitCode, 0, probe.output);
  });

  it('kube-apiserver with etcd reaches /readyz (TLS, with its generated flags and files)', async () => {
    const plan = planCluster(config);
    const state = new StateDir(scratchDir('k8s-img-state-'));
    const secrets = await state.ensure(plan, [basicIssuer]);
    const sm1 = renderBundles(plan, loadTemplates(), secrets).get('sm1')!;
    const apiserver = plan.nodes.find((n) => n.name === 'sm1')!.services.find((s) => s.name === 'kube-apiserver')!;
    const network = await new Network().start();
    const etcd = await new GenericContainer(plan.images.etcd)
      .withNetwork(network)
      .withNetworkAliases('etcd')
      .withCommand(['--data-dir=/tmp/etcd', '--listen-client-urls=http://0.0.0.0:2379', '--advertise-client-urls=http://etcd:2379'])
      .withLabels(TEST_LABELS)
      .withWaitStrategy(Wait.forLogMessage(/ready to serve client requests/))
      .start();
    started.push(etcd);
    // The node's address does not exist here: etcd is "etcd", the apiserver advertises its own IP.
    const args = apiserver.command
      .map((a) => (a.startsWith('--etcd-servers=') ? '--etcd-servers=http://etcd:2379' : a))
      .filter((a) => !a.startsWith('--advertise-address='));
    const api = await new GenericContainer(plan.images['kube-apiserver'])
      .withNetwork(network)
      .withCommand(args)
      .withTmpFs({ '/var/run/kubernetes': 'rw', '/var/log/kubernetes': 'rw' })
      .withCopyContentToContainer(sm1.filter((f) => f.path.startsWith('kube-apiserver/')).map((f) => ({ content: f.content, target: `/etc/kubernetes/${f.path.slice('kube-apiserver/'.length)}`, mode: f.mode })))
      .withExposedPorts(6443)
      .withLabels(TEST_LABELS)
      .withWaitStrategy(Wait.forHttp('/readyz', 6443).usingTls().allowInsecure().forStatusCode(200))
      .withStartupTimeout(120_000)
      .start();
    started.push(api);
    const probe = await api.exec(['/usr/local/bin/k8s-img-probe', 'https://127.0.0.1:6443/readyz']);
    assert.equal(probe.exitCode, 0, probe.output);
    assert.match(probe.output, /200 OK/);
    await api.stop({ remove: true });
    await etcd.stop({ remove: true });
    await network.stop();
  });
});

describe('builds are content-addressed', () => {
  const cache = new BinaryCache(cacheDir());
  const workDir = join(cache.root, 'work');

  it('a second build rebuilds nothing', async () => {
    const bins = await fetchBinaries({ config, cache, go: new GoToolchain(), reporter: silentReporter });
    const again = await buildImages({ config, bins, docker, reporter: silentReporter, workDir });
    assert.deepEqual(again.filter((i) => i.status !== 'up to date').map((i) => i.ref), []);
    assert.equal(again.length, IMAGE_IDS.length);
  });

  it('a changed input rebuilds only the affected image', async () => {
    const script = join(PACKAGE_ROOT, 'images', 'host-prep', 'k8s-img-host-prep');
    const original = readFileSync(script, 'utf8');
    const bins = await fetchBinaries({ config, cache, go: new GoToolchain(), reporter: silentReporter });
    try {
      appendFileSync(script, `\n# changed by the integration test ${Date.now()}\n`);
      const changed = await buildImages({ config, bins, docker, reporter: silentReporter, workDir });
      assert.deepEqual(changed.filter((i) => i.status === 'built').map((i) => i.id), ['host-prep']);
    } finally {
      writeFileSync(script, original);
    }
    const restored = await buildImages({ config, bins, docker, reporter: silentReporter, workDir });
    assert.deepEqual(restored.filter((i) => i.status === 'built').map((i) => i.id), ['host-prep']);
  });
});

describe('build failures', () => {
  it('an error inside the build stream (HTTP 200) is detected and reported with the log tail', async () => {
    const dir = scratchDir('k8s-img-badbuild-');
    const ref = planCluster(config).images['host-prep'];
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${ref}\nRUN echo "about to fail" && exit 3\n`);
    await assert.rejects(docker.build(dir, ['Dockerfile'], 'k8s-img-test/broken:1', { 'io.k8s-img.managed': 'true' }), (e: unknown) => {
      assert.ok(e instanceof BuildError, String(e));
      assert.equal(e.exitCode, 5);
      assert.match(e.message, /building k8s-img-test\/broken:1 failed: .*returned a non-zero code: 3/);
      assert.ok(e.logTail.some((l) => l.includes('about to fail')), e.logTail.join('\n'));
      return true;
    });
    assert.equal(await docker.imageInfo('k8s-img-test/broken:1'), undefined);
  });
});

describe('throwaway containers', () => {
  it('take the anonymous volumes of an image\'s VOLUME with them (one-shots and stopped helpers)', async () => {
    const dir = scratchDir('k8s-img-volimage-');
    const ref = 'k8s-img-test/with-volume:1';
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${planCluster(config).images['host-prep']}\nVOLUME /var/scratch\n`);
    try {
      await docker.build(dir, ['Dockerfile'], ref, TEST_LABELS);
      const volumes = async () => new Set(((await docker.api.listVolumes()).Volumes ?? []).map((v) => v.Name));
      const before = await volumes();
      const r = await docker.runToCompletion({ Image: ref, Labels: TEST_LABELS, Entrypoint: ['sh', '-c', 'touch /var/scratch/x'] });
      assert.equal(r.code, 0, r.output);
      await docker.runContainer({ name: 'k8s-img-test-volume', Image: ref, Labels: TEST_LABELS, Entrypoint: ['sleep', '600'] });
      assert.equal((await volumes()).size, before.size + 1, 'the running one has its volume');
      await docker.stopAndRemove('k8s-img-test-volume', 0);
      assert.deepEqual([...(await volumes())].filter((v) => !before.has(v)), []);
    } finally {
      await docker.removeImage(ref);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('save', () => {
  it('per-node archives load into a clean engine and hold exactly that node\'s images', async () => {
    const plan = planCluster(config);
    const out = scratchDir('k8s-img-save-');
    const archives = await saveNodeArchives(plan, docker, out, silentReporter);
    assert.deepEqual(archives.map((a) => a.node), ['sm1', 'sw1', 'sw2']);
    const node = await buildNodeImage({ config, docker, reporter: silentReporter, workDir: join(cacheDir(), 'work') });
    for (const a of archives) {
      const sums = readFileSync(join(out, a.node, 'images.sha256'), 'utf8');
      assert.match(sums, new RegExp(`^${a.sha256}  images.tar`));
      // A clean engine: a fresh node container running its own dockerd (its data on a
      // filesystem of its own, as local mode's node folders are: overlay on overlay fails).
      const engine = await new GenericContainer(node.ref)
        .withPrivilegedMode()
        .withTmpFs({ '/run': 'rw,exec', '/tmp': 'rw', '/var/lib/docker': 'rw,exec' })
        .withBindMounts([{ source: join(out, a.node), target: '/archive', mode: 'ro' }])
        .withLabels(TEST_LABELS)
        .withWaitStrategy(Wait.forLogMessage(/ready/))
        .start();
      started.push(engine);
      const load = await engine.exec(['docker', 'load', '-i', '/archive/images.tar']);
      assert.equal(load.exitCode, 0, load.output);
      const list = await engine.exec(['docker', 'images', '--format', '{{.Repository}}:{{.Tag}}']);
      const expected = plan.nodes.find((n) => n.name === a.node)!.images.map((id) => plan.images[id]).sort();
      assert.deepEqual(list.output.trim().split('\n').sort(), expected);
      // Next to the archive, the SBOM of every image the node gets (on control planes also the pod images its registry serves).
      const served = plan.registry.nodes.includes(a.node) ? plan.registry.images.map((id) => plan.images[id]) : [];
      const sbomDir = join(out, a.node, SBOM_DIR);
      assert.deepEqual(readdirSync(sbomDir).sort(), [...new Set([...expected, ...served])].map(sbomFileName).sort(), `${a.node}: ${SBOM_DIR}/`);
      for (const ref of [...expected, ...served]) {
        const doc = readFileSync(join(sbomDir, sbomFileName(ref)));
        assert.equal(`sha256:${createHash('sha256').update(doc).digest('hex')}`, (await docker.imageInfo(ref))!.labels[SBOM_LABEL], `${ref}: the SBOM its label names`);
        assert.equal(JSON.parse(doc.toString()).spdxVersion, 'SPDX-2.3');
      }
      await engine.stop({ remove: true, removeVolumes: true });
      // The pods' images are not in any node's engine: the cluster registry on the control plane serves them.
      const tags = join(out, a.node, 'registry-storage', 'docker', 'registry', 'v2', 'repositories', config.images.prefix, 'coredns', '_manifests', 'tags');
      assert.equal(existsSync(tags), plan.registry.nodes.includes(a.node), `${a.node}: registry storage`);
    }
    rmSync(out, { recursive: true, force: true });
  });
});

/** Everything a (finished) container printed. */
function containerOutput(c: StartedTestContainer): Promise<string> {
  return docker.logs(c.getId());
}
