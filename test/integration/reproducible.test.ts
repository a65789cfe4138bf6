// Issue 11: images are reproducible and carry SBOMs. The same inputs give the same image
// IDs under another prefix and again after `docker image rm`; the SBOMs pass the SPDX
// project's own validator and name exactly what went in (the module proxy's go.sum hash of
// k8s.io/kubernetes). Go binaries built from empty caches: test/long/go-reproducible.test.ts.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResolvedConfig } from '../../src/config/defaults.js';
import { findRelease } from '../../src/config/versions.js';
import { h1ToSha256 } from '../../src/fetch/buildinfo.js';
import { fetchAndBuild } from '../../src/pipeline/artifacts.js';
import { BASE_LABEL, SBOM_LABEL } from '../../src/pipeline/assemble.js';
import { silentReporter } from '../../src/pipeline/progress.js';
import { planCluster } from '../../src/plan/plan.js';
import { IMAGE_IDS } from '../../src/plan/types.js';
import type { SpdxDocument } from '../../src/render/sbom.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { GoToolchain } from '../../src/runtime/gotool.js';
import { SbomStore } from '../../src/runtime/sbom-store.js';
import { PACKAGE_ROOT, cacheDir } from '../../src/runtime/paths.js';
import { runInProcess } from '../helpers/cli.js';
import { TEST_PREFIX, fixtureConfig } from './harness.js';
import { scratchDir } from '../helpers/scratch.js';

const PYSPDXTOOLS = '/opt/k8s-img-spdx-tools/bin/pyspdxtools';
// Two prefixes of their own (K8S_IMG_TEST_PREFIX-repro-a/-b): the shared k8s-img/* images are never touched.
const fixture = fixtureConfig('tutorial-simple.yaml');
const withPrefix = (prefix: string): ResolvedConfig => ({ ...fixture, images: { ...fixture.images, prefix } });
const config = withPrefix(`${TEST_PREFIX}-repro-a`);
const other = withPrefix(`${TEST_PREFIX}-repro-b`);
const docker = new DockerEngine();
const sboms = new SbomStore();

/** Every image of the prefix, components and bases, with its ID. */
async function idsOf(prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const img of await docker.listImages({ 'io.k8s-img.managed': 'true' })) {
    for (const tag of img.RepoTags ?? []) if (tag.startsWith(`${prefix}/`)) out.set(tag.slice(prefix.length + 1), img.Id);
  }
  return out;
}

async function removePrefix(prefix: string): Promise<void> {
  for (const name of (await idsOf(prefix)).keys()) await docker.removeImage(`${prefix}/${name}`);
}

before(async () => {
  for (const c of [config, other]) await removePrefix(c.images.prefix);
});

after(async () => {
  for (const c of [config, other]) await removePrefix(c.images.prefix);
});

describe('reproducible images', () => {
  it('the same inputs give the same image IDs under another prefix, and again after docker image rm', async () => {
    for (const c of [config, other]) {
      const made = await fetchAndBuild(c, silentReporter, docker);
      assert.deepEqual(made.images.map((i) => i.status), IMAGE_IDS.map(() => 'built'), `${c.images.prefix}: a prefix no image had, everything is made`);
    }
    const ids = await idsOf(config.images.prefix);
    assert.ok(ids.size > IMAGE_IDS.length, `the components and their base: ${[...ids.keys()].join(', ')}`);
    assert.deepEqual(await idsOf(other.images.prefix), ids, 'made again under another prefix, every image is the same');

    await removePrefix(config.images.prefix);
    assert.equal((await idsOf(config.images.prefix)).size, 0);
    const again = await fetchAndBuild(config, silentReporter, docker);
    assert.deepEqual(again.images.map((i) => i.status), IMAGE_IDS.map(() => 'built'));
    assert.deepEqual(await idsOf(config.images.prefix), ids, 'removed and made again, every image is the same');

    const third = await fetchAndBuild(config, silentReporter, docker);
    assert.deepEqual(third.images.map((i) => i.status), IMAGE_IDS.map(() => 'up to date'), 'unchanged inputs: nothing is rebuilt');
  });

  it('images carry a fixed creation time, a prefix-free base and no build-machine files', async () => {
    const plan = planCluster(config);
    const api = (await docker.api.getImage(plan.images['kube-apiserver']).inspect()) as unknown as { Created: string; Config: { Labels: Record<string, string> } };
    assert.equal(api.Created, '1970-01-01T00:00:00Z');
    assert.equal(api.Config.Labels[BASE_LABEL], 'scratch');
    const kubelet = await docker.imageInfo(plan.images.kubelet);
    assert.match(kubelet!.labels[BASE_LABEL]!, /^rootfs-tools:trixie-[0-9a-f]{12}$/);
    // The Debian base's layer leaves out what mmdebstrap copies from the build machine (a
    // container would show the engine's own /etc/hostname and resolv.conf: the layer is read).
    const tag = kubelet!.labels[BASE_LABEL]!.split(':')[1]!;
    const layer = join(cacheDir(), 'rootfs', `tools-${tag}.tar`);
    const files = execFileSync('tar', ['-tf', layer], { maxBuffer: 64 << 20 }).toString().split('\n');
    assert.ok(files.includes('./etc/passwd'), `${layer} is the tools root filesystem`);
    for (const f of ['./etc/hostname', './etc/resolv.conf']) assert.ok(!files.includes(f), `${f} is not in ${layer}`);
    const base = await docker.imageInfo(`${config.images.prefix}/${kubelet!.labels[BASE_LABEL]}`);
    const rootfsDiff = ((await docker.api.getImage(base!.id).inspect()) as unknown as { RootFS: { Layers: string[] } }).RootFS.Layers[0];
    assert.equal(rootfsDiff, `sha256:${readFileSync(`${layer}.sha256`, 'utf8').trim()}`, 'that tar is the base image\'s layer');
  });
});

describe('SBOMs', () => {
  const plan = planCluster(config);
  const sbomOf = async (ref: string): Promise<{ doc: SpdxDocument; path: string }> => {
    const digest = (await docker.imageInfo(ref))!.labels[SBOM_LABEL];
    assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/, `${ref} names its SBOM`);
    return { doc: sboms.get(digest)!, path: sboms.path(digest!) };
  };

  it('kube-apiserver\'s names k8s.io/kubernetes at the built version, its checksum the module proxy\'s go.sum hash', async () => {
    const release = findRelease(config.kubernetesVersion)!;
    const { doc } = await sbomOf(plan.images['kube-apiserver']);
    const k8s = doc.packages.find((p) => p.name === 'k8s.io/kubernetes');
    assert.ok(k8s, 'k8s.io/kubernetes is named');
    assert.equal(k8s.versionInfo, `v${release.kubernetes}`);
    // What the module proxy says: `go mod download -json` and the .ziphash it keeps.
    const mod = await new GoToolchain({ proxy: config.binaries.goproxy }).download('k8s.io/kubernetes', `v${release.kubernetes}`, tmpdir());
    assert.match(mod.sum ?? '', /^h1:/);
    assert.deepEqual(k8s.checksums, [{ algorithm: 'SHA256', checksumValue: h1ToSha256(mod.sum!) }]);
    const gomodcache = execFileSync('go', ['env', 'GOMODCACHE']).toString().trim();
    assert.equal(readFileSync(join(gomodcache, 'cache', 'download', 'k8s.io', 'kubernetes', '@v', `v${release.kubernetes}.ziphash`), 'utf8').trim(), mod.sum);
    // The file it describes is the one in the image.
    const binary = doc.files.find((f) => f.fileName === './usr/local/bin/kube-apiserver')!;
    const inImage = createHash('sha256').update(await docker.readImageFile(plan.images['kube-apiserver'], '/usr/local/bin/kube-apiserver')).digest('hex');
    assert.deepEqual(binary.checksums.find((c) => c.algorithm === 'SHA256')?.checksumValue, inImage);
  });

  it('a tools image\'s names the pinned Debian packages of its base, with their .deb checksums', async () => {
    const { doc } = await sbomOf(plan.images.kubelet);
    const iptables = doc.packages.find((p) => p.name === 'iptables');
    assert.ok(iptables?.versionInfo, 'iptables is named with its version');
    assert.match(iptables.checksums![0]!.checksumValue, /^[0-9a-f]{64}$/);
    const lock = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'images', 'rootfs', 'tools.lock.json'), 'utf8')) as { packages: { name: string; version: string; sha256: string }[] };
    const locked = lock.packages.find((p) => p.name === 'iptables')!;
    assert.deepEqual([iptables.versionInfo, iptables.checksums![0]!.checksumValue], [locked.version, locked.sha256]);
  });

  it('pass the SPDX project\'s validator (pyspdxtools)', async () => {
    assert.ok(existsSync(PYSPDXTOOLS), `${PYSPDXTOOLS} is installed by npm run setup`);
    for (const id of ['kube-apiserver', 'kubelet', 'pause', 'calico-node'] as const) {
      const { path } = await sbomOf(plan.images[id]);
      const r = spawnSync(PYSPDXTOOLS, ['-i', path], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${id}: ${r.stdout}\n${r.stderr}`);
    }
  });

  it('k8s-img images lists each image with its digest, size, base and SBOM', async () => {
    const dir = scratchDir('k8s-img-images-');
    const text = readFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', 'valid', 'tutorial-simple.yaml'), 'utf8');
    writeFileSync(join(dir, 'cluster.yaml'), `${text.replace(/^images:.*$/m, '')}\nimages: { prefix: ${config.images.prefix} }\n`);
    const r = await runInProcess(['images', '-c', join(dir, 'cluster.yaml'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { ref: string; role: string; built: boolean; digest?: string; base?: string; sbom?: { path?: string } }[];
    for (const ref of Object.values(plan.images)) {
      const item = list.find((i) => i.ref === ref)!;
      assert.ok(item.built, ref);
      assert.equal(item.digest, (await docker.imageInfo(ref))!.id);
      assert.ok(item.sbom?.path && existsSync(item.sbom.path), `${ref}: SBOM at ${item.sbom?.path}`);
    }
    assert.ok(list.some((i) => i.role === 'base' && /\/rootfs-tools:/.test(i.ref)), 'the tools base is listed');
    const table = await runInProcess(['images', '-c', join(dir, 'cluster.yaml')]);
    assert.match(table.stdout, /^IMAGE\s+ROLE\s+SIZE\s+BASE\s+DIGEST/m);
    rmSync(dir, { recursive: true, force: true });
  });
});
