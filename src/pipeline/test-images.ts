// The e2e test images (conformance/test-images.ts), built with no registry: programs from the
// binary cache, Debian root filesystems from mmdebstrap, content-addressed like the components.
// One image failing is reported with its reason; the others still build.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/defaults.js';
import { findRelease, type SupportedRelease } from '../config/versions.js';
import { testImagePrograms, type TestProgram } from '../conformance/recipes.js';
import { leftOutReason } from '../conformance/left-out-images.js';
import { TEST_IMAGE_PATH, TEST_IMAGES_SUITE, TEST_ROOTFS, testImages, type TestImage, type TestRootfsId } from '../conformance/test-images.js';
import { BuildError, K8sImgError } from '../errors.js';
import type { Group } from '../fetch/recipes.js';
import { LABEL } from '../plan/names.js';
import type { LayerEntry } from '../render/layer-tar.js';
import type { FileOrigin } from '../render/sbom.js';
import { BinaryCache } from '../runtime/bincache.js';
import type { DockerEngine } from '../runtime/docker.js';
import { GoToolchain, type ModuleInfo } from '../runtime/gotool.js';
import type { LayerSource } from '../runtime/image-load.js';
import { PACKAGE_ROOT, cacheDir } from '../runtime/paths.js';
import { TOOL_VERSION } from '../version.js';
import { assembleImage, type ImagePlan } from './assemble.js';
import { assembleContext, originOf } from './build.js';
import { fetchBinaries, fetchGroup, groupsFor, type FetchContext, type FetchedBinary } from './fetch.js';
import type { Reporter } from './progress.js';
import { rootfsImage, type RootfsImage } from './rootfs.js';

export interface TestImagesResult {
  /** Every image asked for (and the images they are built on) that exists now. */
  built: { ref: string; id: string; size: number; status: 'built' | 'up to date' }[];
  /** Every image asked for that could not be built, and why: specs needing them cannot pass. */
  failed: { ref: string; reason: string }[];
}

/** Where the inputs of one image come from, or why they could not be had. */
interface Inputs {
  programs: Map<TestProgram, FetchedBinary>;
  components: Map<'coredns' | 'pause', FetchedBinary>;
  rootfs: Map<TestRootfsId, RootfsImage>;
  kubernetes?: ModuleInfo;
  /** The recipes of the programs and components, for the SBOM. */
  groups: Group<string, string>[];
  /** Input → why it is missing. */
  missing: Map<string, string>;
}

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const why = (e: unknown) => (e instanceof K8sImgError && e.hint ? `${e.message} (hint: ${e.hint})` : (e as Error).message);

/**
 * Builds the test images e2e.test names (`only`: exactly these refs; default: the whole table).
 * A ref the table has no recipe for is reported in `failed` with the reason it was left out.
 */
export async function buildTestImages(config: ResolvedConfig, docker: DockerEngine, reporter: Reporter, only?: readonly string[]): Promise<TestImagesResult> {
  const release = findRelease(config.kubernetesVersion);
  if (!release) throw new BuildError(`unsupported Kubernetes version ${config.kubernetesVersion}`, 'run k8s-img validate');
  const known = testImages(release);
  const other = `src/conformance/test-images.ts describes the images of the v${TEST_IMAGES_SUITE} suite, not of v${config.kubernetesVersion}`;
  if (!known && !only) throw new BuildError(other, 'name the images to build (e2e.test --list-images); each is reported as failed with this reason');
  await docker.ping();
  const table = known ?? [];
  const byRef = new Map(table.map((t) => [t.ref, t]));
  const failed: TestImagesResult['failed'] = (only ?? [])
    .filter((ref) => !byRef.has(ref))
    .map((ref) => ({ ref, reason: known ? (leftOutReason(ref) ?? 'no recipe in src/conformance/test-images.ts') : other }));
  const selected = withBases(table.filter((t) => !only || only.includes(t.ref)), byRef);

  const cache = new BinaryCache(cacheDir());
  const workDir = join(cache.root, 'work');
  const fetch: FetchContext = { config, cache, go: new GoToolchain({ proxy: config.binaries.goproxy }), reporter };
  const build = assembleContext({ config, docker, reporter, workDir, go: fetch.go });
  const inputs = await gatherInputs(selected, release, fetch, build);

  const built: TestImagesResult['built'] = [];
  for (const t of selected) {
    try {
      const lacking = needs(t).map((n) => inputs.missing.get(n) && `${n}: ${inputs.missing.get(n)}`).filter(Boolean);
      if (lacking.length > 0) throw new BuildError(`cannot build ${t.ref} without ${lacking.join('; ')}`);
      const r = await assembleImage(build, testImagePlan(t, inputs));
      const id = (await docker.imageInfo(t.ref))!.id;
      built.push({ ref: t.ref, id, size: r.size, status: r.status });
    } catch (e) {
      failed.push({ ref: t.ref, reason: why(e) });
    }
  }
  return { built, failed };
}

/** The selection plus the table images they are built on, bases first (table order). */
function withBases(selected: TestImage[], byRef: Map<string, TestImage>): TestImage[] {
  const out = new Set<TestImage>();
  const add = (t: TestImage) => {
    if (typeof t.base === 'object' && 'image' in t.base) add(byRef.get(t.base.image)!);
    out.add(t);
  };
  selected.forEach(add);
  return [...byRef.values()].filter((t) => out.has(t));
}

/** The names of the inputs an image needs (keys of Inputs.missing). */
function needs(t: TestImage): string[] {
  const out = new Set<string>();
  if (typeof t.base === 'object' && 'rootfs' in t.base) out.add(`rootfs ${t.base.rootfs}`);
  for (const e of t.layout) {
    if ('program' in e) out.add(`program ${e.program}`);
    else if ('component' in e) out.add(e.component);
    else if ('kubernetesFile' in e) out.add('k8s.io/kubernetes module');
  }
  return [...out];
}

/** Builds or finds every program, root filesystem and file the selected images need; records what failed. */
async function gatherInputs(selected: TestImage[], release: SupportedRelease, fetch: FetchContext, build: Parameters<typeof rootfsImage>[1]): Promise<Inputs> {
  const wanted = new Set(selected.flatMap(needs));
  const programGroups = testImagePrograms(release, TOOL_VERSION);
  const inputs: Inputs = { programs: new Map(), components: new Map(), rootfs: new Map(), groups: [...programGroups, ...groupsFor(fetch.config)], missing: new Map() };
  const attempt = async (names: string[], fn: () => Promise<void>) => {
    if (!names.some((n) => wanted.has(n))) return;
    try {
      await fn();
    } catch (e) {
      for (const n of names) inputs.missing.set(n, why(e));
    }
  };
  for (const g of programGroups) {
    await attempt(g.binaries.map((b) => `program ${b}`), async () => {
      for (const [name, bin] of Object.entries(await fetchGroup(fetch, g))) inputs.programs.set(name as TestProgram, bin as FetchedBinary);
    });
  }
  for (const c of ['coredns', 'pause'] as const) {
    await attempt([c], async () => {
      inputs.components.set(c, (await fetchBinaries(fetch, [c]))[c]);
    });
  }
  for (const [id, spec] of Object.entries(TEST_ROOTFS) as [TestRootfsId, (typeof TEST_ROOTFS)[TestRootfsId]][]) {
    await attempt([`rootfs ${id}`], async () => {
      inputs.rootfs.set(id, await rootfsImage(spec, build));
    });
  }
  await attempt(['k8s.io/kubernetes module'], async () => {
    inputs.kubernetes = await fetch.go.download('k8s.io/kubernetes', `v${release.kubernetes}`, fetch.cache.root);
  });
  return inputs;
}

/** What one test image is: its base, its files (with where they come from), its build steps and config. */
function testImagePlan(t: TestImage, inputs: Inputs): ImagePlan {
  const entries: LayerEntry<LayerSource>[] = [];
  const origins = new Map<string, FileOrigin>();
  const own = (to: string, from: string, mode: number, origin: FileOrigin) => {
    const data = readFileSync(from);
    entries.push({ path: to, type: 'file', mode, uid: 0, gid: 0, size: data.length, content: { file: from, sha256: sha(data) } });
    origins.set(to.replace(/^\//, ''), origin);
  };
  const k8s = inputs.kubernetes;
  for (const e of t.layout) {
    if ('program' in e || 'component' in e) {
      const bin = 'program' in e ? inputs.programs.get(e.program)! : inputs.components.get(e.component)!;
      entries.push({ path: e.to, type: 'file', mode: 0o755, uid: 0, gid: 0, size: bin.size, content: { file: bin.path, sha256: bin.sha256 } });
      origins.set(e.to.replace(/^\//, ''), originOf(bin, inputs.groups));
    } else if ('kubernetesFile' in e) {
      own(e.to, join(k8s!.dir, e.kubernetesFile), 0o644, { kind: 'copied', source: { name: 'k8s.io/kubernetes', version: `v${k8sVersionOf(inputs)}`, ...(k8s!.sum ? { h1: k8s!.sum } : {}) }, from: e.kubernetesFile });
    } else if ('file' in e) {
      own(e.to, join(PACKAGE_ROOT, 'images', 'e2e', e.file), 0o644, { kind: 'k8s-img' });
    } else if ('link' in e) {
      entries.push({ path: e.to, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, linkname: e.link });
    } else {
      entries.push({ path: e.dir, type: 'dir', mode: e.mode, uid: 0, gid: 0, size: 0 });
    }
  }
  // pause has no shell and upstream's pause image no PATH.
  const env = t.layout.some((e) => 'component' in e && e.component === 'pause') ? [] : [`PATH=${TEST_IMAGE_PATH}`];
  const base =
    t.base === 'scratch'
      ? ({ ref: 'scratch' } as const)
      : 'rootfs' in t.base
        ? { ref: inputs.rootfs.get(t.base.rootfs)!.ref, name: inputs.rootfs.get(t.base.rootfs)!.name }
        : { ref: t.base.image, name: t.base.image };
  const name = t.ref.slice(t.ref.lastIndexOf('/') + 1).split(':')[0]!;
  return {
    id: `e2e-${name}`,
    ref: t.ref,
    base,
    layers: [{ entries, origins, history: { created_by: `k8s-img ${TOOL_VERSION}: ${t.builtFrom}` } }],
    ...(t.run ? { run: { steps: t.run, env } } : {}),
    config: {
      labels: labelsOf(t),
      env,
      ...(t.user ? { user: t.user } : {}),
      ...(t.workdir ? { workdir: t.workdir } : {}),
      ...(t.expose ? { exposedPorts: t.expose } : {}),
      ...(t.stopSignal ? { stopSignal: t.stopSignal } : {}),
      ...(t.entrypoint ? { entrypoint: t.entrypoint } : {}),
      ...(t.cmd ? { cmd: t.cmd } : {}),
    },
    sbom: { image: { name: `e2e-${name}`, version: t.ref.slice(t.ref.lastIndexOf(':') + 1), description: t.description } },
  };
}

const k8sVersionOf = (inputs: Inputs) => inputs.groups.find((g) => g.id === 'kubernetes')!.version;

function labelsOf(t: TestImage): Record<string, string> {
  const name = t.ref.slice(t.ref.lastIndexOf('/') + 1).split(':')[0]!;
  return {
    [LABEL.managed]: 'true',
    [LABEL.component]: `e2e-${name}`,
    'org.opencontainers.image.ref.name': t.ref,
    'org.opencontainers.image.title': `e2e ${name}`,
    'org.opencontainers.image.description': t.description,
    'org.opencontainers.image.version': t.ref.slice(t.ref.lastIndexOf(':') + 1),
    'org.opencontainers.image.source': t.source,
    'org.opencontainers.image.revision': t.builtFrom,
    'org.opencontainers.image.vendor': 'k8s-img',
  };
}
